/**
 * Driver for sensors speaking the Kentongan line protocol on one serial port. Each line is
 * decoded (framing, CRC, fields); refused lines are counted per FrameErrorCode and logged at
 * debug with the code only (never the line: it is untrusted bytes). Accepted frames go
 * through the sequence tracker; RDG/HBT channels configured for the sensor are calibrated
 * into readings and committed to the disk queue with the state that keyed them.
 */
import {
  LINE_PROTOCOL_VERSION,
  QUANTITY_UNITS,
  decodeLine,
  type Channels,
  type Reading,
  type SensorMessage,
} from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { SensorConfig } from '../config/schema.ts';
import type { IngestStore } from '../queue/ingest-store.ts';
import type { AcceptedSeq } from '../queue/sequence-tracker.ts';
import type { TipUpdate } from '../queue/tip-counters.ts';
import type { GatewayCounters } from '../stats.ts';
import { calibrate } from '../sensors/physics.ts';

export interface LineSensorDriverOptions {
  portPath: string;
  /** Sensors configured on this port. */
  sensors: readonly SensorConfig[];
  store: IngestStore;
  counters: GatewayCounters;
  logger: Logger;
  now: () => Date;
  /** Called after readings were committed (the publisher may send them). */
  onCommitted?(count: number): void;
}

/** Conventional heartbeat channel for the battery, used for health when it is not mapped. */
const BATTERY_CHANNEL = 'batt_v';

export class LineSensorDriver {
  private readonly sensors: Map<string, SensorConfig>;
  private readonly log: Logger;
  /** When each tip counter was last stored (bounce filter and intensity); in memory only. */
  private readonly lastTipMs = new Map<string, number>();

  constructor(private readonly opts: LineSensorDriverOptions) {
    this.sensors = new Map(opts.sensors.map((s) => [s.id, s]));
    this.log = opts.logger.child({ component: 'line-sensor', port: opts.portPath });
  }

  /** The guard dropped a line longer than the protocol allows. */
  tooLong(): void {
    this.reject('too_long');
  }

  handleLine(line: string): void {
    const decoded = decodeLine(line);
    if (!decoded.ok) return this.reject(decoded.error.code);
    // The codec resynchronised on the line's last "$": the bytes in front were noise, dropped.
    if (decoded.skipped > 0) this.opts.counters.noiseBytes += decoded.skipped;
    const m = decoded.message;
    if (m.kind === 'CMD') return this.reject('unexpected_kind');
    const sensor = this.sensors.get(m.sensorId);
    if (!sensor) return this.reject('unknown_sensor');
    const decision = this.opts.store.tracker.decide(m.sensorId, m.seq, m.kind === 'HEL');
    if (decision.kind === 'duplicate') return this.reject('duplicate_seq');
    this.handleMessage(sensor, m, decision);
  }

  private handleMessage(sensor: SensorConfig, m: SensorMessage, seq: AcceptedSeq): void {
    const log = this.log.child({ sensorId: sensor.id });
    const now = this.opts.now();
    let readings: Reading[] = [];
    let tipUpdates: TipUpdate[] = [];
    let batteryV: number | null = null;
    switch (m.kind) {
      case 'HEL':
        this.opts.counters.sensorBoots++;
        if (m.protocol !== LINE_PROTOCOL_VERSION) log.warn({ protocol: m.protocol, expected: LINE_PROTOCOL_VERSION }, 'sensor speaks another protocol version');
        log.info({ sensorType: m.sensorType, firmware: m.firmware, epoch: seq.epoch }, 'sensor booted');
        // A reboot restarts the tip counters at 0: the first reading after it counts all its tips.
        tipUpdates = Object.entries(sensor.channels)
          .filter(([, ch]) => ch.tippingBucket)
          .map(([channel]) => ({ sensorId: sensor.id, channel, counter: 0 }));
        break;
      case 'RDG':
      case 'HBT': {
        const built = this.buildReadings(sensor, m.kind, m.channels, seq, now);
        readings = built.readings;
        tipUpdates = built.tipUpdates;
        batteryV = readings.find((r) => r.quantity === 'battery_voltage')?.value ?? m.channels[BATTERY_CHANNEL] ?? null;
        break;
      }
      case 'ERR':
        this.opts.counters.sensorErrors++;
        log.warn({ code: m.code, text: m.text.slice(0, 64) }, 'sensor reported an error');
        break;
      case 'ACK':
        log.debug({ commandSeq: m.commandSeq, status: m.status }, 'sensor acknowledged a command');
        break;
    }
    if (seq.event === 'restart') log.warn({ epoch: seq.epoch, rawSeq: m.seq }, 'sequence went backwards without HEL: new epoch');
    try {
      this.opts.store.commit({ sequence: seq, readings, tipUpdates });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'frame not stored');
      return this.reject('store_failed');
    }
    for (const u of tipUpdates) this.lastTipMs.set(`${u.sensorId}\u0000${u.channel}`, now.getTime());
    const health = this.opts.counters.sensors.get(sensor.id);
    if (health) {
      health.lastSeen = now;
      health.gaps += seq.gap;
      if (batteryV !== null) health.batteryV = batteryV;
    }
    if (seq.gap > 0) log.info({ missing: seq.gap, epoch: seq.epoch, seq: seq.seq }, 'sequence gap');
    this.opts.counters.readingsAccepted += readings.length;
    if (readings.length > 0) this.opts.onCommitted?.(readings.length);
  }

  private buildReadings(
    sensor: SensorConfig,
    kind: 'RDG' | 'HBT',
    channels: Channels,
    seq: AcceptedSeq,
    now: Date,
  ): { readings: Reading[]; tipUpdates: TipUpdate[] } {
    const readings: Reading[] = [];
    const tipUpdates: TipUpdate[] = [];
    const ts = now.toISOString();
    for (const [name, raw] of Object.entries(channels)) {
      const ch = sensor.channels[name];
      if (!ch) {
        // Heartbeats carry health channels (uptime, battery) that need no mapping: only count RDG's.
        if (kind === 'RDG') this.opts.counters.ignore('unmapped_channel');
        continue;
      }
      const previous = ch.tippingBucket ? this.opts.store.tips.get(sensor.id, name) : undefined;
      const last = ch.tippingBucket ? this.lastTipMs.get(`${sensor.id}\u0000${name}`) : undefined;
      const result = calibrate(raw, ch, previous, { elapsedMs: last === undefined ? undefined : now.getTime() - last });
      if (!result.ok) {
        this.opts.counters.ignore(result.code);
        this.log.debug({ sensorId: sensor.id, channel: name, code: result.code }, 'channel value refused');
        continue;
      }
      if (result.bounced) this.opts.counters.ignoredChannels.bounce_tips = (this.opts.counters.ignoredChannels.bounce_tips ?? 0) + result.bounced;
      if (result.counter !== undefined) tipUpdates.push({ sensorId: sensor.id, channel: name, counter: result.counter });
      readings.push({
        sensorId: sensor.id,
        epoch: seq.epoch,
        seq: seq.seq,
        quantity: ch.quantity,
        value: result.value,
        unit: QUANTITY_UNITS[ch.quantity],
        ts,
        quality: result.quality,
      });
    }
    return { readings, tipUpdates };
  }

  private reject(code: string): void {
    this.opts.counters.reject(code);
    this.log.debug({ code }, 'frame refused');
  }
}
