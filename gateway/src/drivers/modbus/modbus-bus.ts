/**
 * One RS-485 Modbus RTU bus: its serial port, one transaction at a time (a FIFO of polls),
 * per-request timeout and retries, per-device counters and dead-device back-off. Each device's
 * values are grouped by poll interval; a due group is queued once (never twice) and read with
 * the coalesced blocks of registers.ts. Decoded raw values go to `onValues`; this class knows
 * nothing of readings or the queue. A port that fails or vanishes is reopened with back-off.
 */
import { SerialPortStream } from '@serialport/stream';
import type { Logger } from 'pino';
import { backoffDelayMs } from '../../transport/backoff.ts';
import type { BindingInterface } from '../../transport/serial-types.ts';
import { DeviceState, type ModbusDeviceStats } from './device-state.ts';
import { decodeRegisters, planReads, type ReadBlock } from './registers.ts';
import { ModbusRequestError, RtuMaster } from './rtu-master.ts';
import type { ModbusBusConfig, ModbusDeviceConfig, ModbusValueConfig } from './schema.ts';

/** Raw decoded values of one poll of one group (value name -> number, possibly NaN). */
export interface PolledValues {
  device: ModbusDeviceConfig;
  values: { value: ModbusValueConfig; raw: number }[];
  at: Date;
}

export interface ModbusBusOptions {
  bus: ModbusBusConfig;
  binding: BindingInterface;
  logger: Logger;
  now: () => Date;
  reconnect: { minDelayMs: number; maxDelayMs: number };
  /** Called (synchronously, in poll order) with each poll's values; may throw (counted, logged). */
  onValues(polled: PolledValues, state: DeviceState): void;
}

export interface ModbusBusStats {
  path: string;
  port: 'open' | 'closed' | 'retrying';
  /** Bytes received that were not part of an accepted reply. */
  discardedBytes: number;
  devices: ModbusDeviceStats[];
}

interface PollGroup {
  device: ModbusDeviceConfig;
  state: DeviceState;
  intervalMs: number;
  blocks: ReadBlock[];
  queued: boolean;
  timer?: NodeJS.Timeout;
}

export class ModbusBus {
  private readonly log: Logger;
  private readonly master: RtuMaster;
  private readonly groups: PollGroup[] = [];
  readonly states = new Map<string, DeviceState>();
  private readonly fifo: PollGroup[] = [];
  private running = false;
  private stopped = true;
  private stream: SerialPortStream | undefined;
  private portState: ModbusBusStats['port'] = 'closed';
  private openAttempt = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();
  /** Modbus RTU silent interval t3.5 between frames (fixed 1.75 ms above 19200 baud), at least 2 ms. */
  private readonly gapMs: number;

  constructor(private readonly opts: ModbusBusOptions) {
    const { bus } = opts;
    this.log = opts.logger.child({ component: 'modbus', bus: bus.path });
    this.master = new RtuMaster((frame) => {
      if (!this.stream) throw new Error('port not open');
      this.stream.write(frame);
    });
    this.gapMs = Math.max(2, Math.ceil(bus.baudRate > 19_200 ? 1.75 : (3.5 * 11 * 1000) / bus.baudRate));
    for (const device of bus.devices) {
      const state = new DeviceState(device.sensorId, device.unitId, bus);
      this.states.set(device.sensorId, state);
      const byInterval = new Map<number, ModbusValueConfig[]>();
      for (const v of device.values) byInterval.set(v.pollIntervalS, [...(byInterval.get(v.pollIntervalS) ?? []), v]);
      for (const [s, values] of byInterval) {
        this.groups.push({ device, state, intervalMs: Math.round(s * 1000), blocks: planReads(values, device.maxBlockRegisters), queued: false });
      }
    }
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.open();
    // Every group polls at once at start, then at its interval.
    for (const g of this.groups) this.enqueue(g);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    for (const g of this.groups) clearTimeout(g.timer);
    this.fifo.length = 0;
    // The transaction on the wire is finished, not aborted: its reply is stored, never half-taken.
    await this.idle;
    const s = this.stream;
    this.stream = undefined;
    if (s?.isOpen) await new Promise<void>((r) => s.close(() => r()));
    this.portState = 'closed';
  }

  stats(): ModbusBusStats {
    return { path: this.opts.bus.path, port: this.portState, discardedBytes: this.master.discardedBytes, devices: [...this.states.values()].map((s) => ({ ...s.stats, health: { ...s.stats.health } })) };
  }

  private async open(): Promise<void> {
    const { path, baudRate, dataBits, parity, stopBits } = this.opts.bus;
    const stream = new SerialPortStream({ binding: this.opts.binding, path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => stream.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      stream.destroy();
      this.log.warn({ err: (err as Error).message, attempt: this.openAttempt }, 'modbus port open failed');
      return this.scheduleReopen();
    }
    if (this.stopped) return void stream.close();
    this.stream = stream;
    this.portState = 'open';
    this.openAttempt = 0;
    stream.on('data', (chunk: Buffer) => this.master.receive(chunk));
    stream.on('error', (err) => this.log.warn({ err: err.message }, 'modbus port error'));
    stream.on('close', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.master.abort('port closed');
      if (this.stopped) return;
      this.log.warn({}, 'modbus port closed: reopening');
      this.scheduleReopen();
    });
    this.log.info({ baudRate, dataBits, parity, stopBits, devices: this.opts.bus.devices.length }, 'modbus port open');
  }

  private scheduleReopen(): void {
    if (this.stopped) return;
    this.portState = 'retrying';
    const delay = backoffDelayMs(this.openAttempt++, this.opts.reconnect.minDelayMs, this.opts.reconnect.maxDelayMs);
    this.reopenTimer = setTimeout(() => void this.open(), delay);
  }

  private enqueue(g: PollGroup): void {
    if (this.stopped || g.queued) return;
    g.queued = true;
    this.fifo.push(g);
    if (!this.running) this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let g = this.fifo.shift(); g && !this.stopped; g = this.fifo.shift()) {
        const started = Date.now();
        await this.poll(g);
        g.queued = false;
        if (!this.stopped) g.timer = setTimeout(() => this.enqueue(g), Math.max(0, g.intervalMs - (Date.now() - started)));
      }
    } finally {
      this.running = false;
    }
  }

  private async poll(g: PollGroup): Promise<void> {
    const { device, state } = g;
    if (!this.stream || !state.mayPoll(this.opts.now().getTime())) return;
    const values: PolledValues['values'] = [];
    for (const block of g.blocks) {
      const data = await this.readBlock(device, state, block);
      if (data === null) {
        if (state.dead) break; // the rest of this poll would only time out too
        continue;
      }
      for (const { value, index } of block.values) values.push({ value, raw: decodeRegisters(data, index, value.type, value.wordOrder) });
    }
    if (values.length === 0) return;
    try {
      this.opts.onValues({ device, values, at: this.opts.now() }, state);
    } catch (err) {
      this.log.error({ sensorId: device.sensorId, err: (err as Error).message }, 'modbus values not stored');
    }
  }

  /** One block with retries; null when every attempt failed. */
  private async readBlock(device: ModbusDeviceConfig, state: DeviceState, block: ReadBlock): Promise<Buffer | null> {
    const attempts = state.dead ? 1 : 1 + this.opts.bus.retries;
    for (let attempt = 0; attempt < attempts && !this.stopped && this.stream; attempt++) {
      if (attempt > 0) state.stats.retries++;
      await new Promise((r) => setTimeout(r, this.gapMs));
      try {
        const data = await this.master.read(device.unitId, block.function, block.address, block.count, this.opts.bus.timeoutMs);
        if (state.succeeded(this.opts.now())) this.log.info({ sensorId: device.sensorId, unitId: device.unitId }, 'modbus device answers again');
        return data;
      } catch (err) {
        if (!(err instanceof ModbusRequestError)) throw err;
        const nowMs = this.opts.now().getTime();
        if (state.failed(err.code, nowMs)) this.log.warn({ sensorId: device.sensorId, unitId: device.unitId, code: err.code }, 'modbus device not answering: polled with back-off');
        this.log.debug({ sensorId: device.sensorId, unitId: device.unitId, code: err.code, exception: err.exceptionCode, address: block.address }, 'modbus request failed');
        if (err.code === 'exception' || state.dead) return null; // a refusal will not change on retry
      }
    }
    return null;
  }
}
