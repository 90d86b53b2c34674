/**
 * A Modbus RTU slave bus on a real serial device (one end of a pseudo-terminal pair), served by
 * modbus-serial's `ServerSerial` for any number of simulated units, with fault injection:
 * - a silent (dead) unit: the request is never answered;
 * - exception replies: a unit answers every read with a Modbus exception;
 * - CRC-corrupt replies: a fraction of replies leave with one byte flipped;
 * - garbage on the bus: random bytes in front of a fraction of replies, and on demand.
 * Every reply that leaves intact is recorded in `served`, so a test can check that each value
 * the bus really delivered was stored exactly once.
 */
import ModbusRTU from 'modbus-serial';
import { seededRandom } from '../scenarios/curves.ts';
import type { RegisterRead, SimulatedUnit } from './register-maps.ts';

export interface SlaveFaults {
  /** Unit ids that never answer. */
  silentUnits?: Iterable<number>;
  /** Unit ids that answer every read with this exception code (e.g. 4, slave device failure). */
  exceptionUnits?: ReadonlyMap<number, number>;
  /** Probability (0..1) that a reply leaves with a corrupted CRC. */
  corruptRate?: number;
  /** Probability (0..1) that random garbage bytes go out right before a reply. */
  garbageRate?: number;
  /** Most garbage bytes in one burst (default 16). */
  maxGarbageBytes?: number;
  /** Seed of the fault dice (repeatable runs). */
  seed?: string;
}

/** A reply that left the simulator intact. */
export interface ServedReply {
  unitId: number;
  fn: 3 | 4;
  address: number;
  registers: number[];
}

export interface SlaveCounters {
  requests: number;
  replies: number;
  corrupted: number;
  exceptions: number;
  unanswered: number;
  garbageBytes: number;
}

export interface SerialFraming {
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
}

type Cb = (err: unknown, value?: unknown) => void;

interface ServerLike {
  getPort(): { write(b: Buffer): boolean };
  close(cb: (err?: unknown) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

export class ModbusSlaveSimulator {
  readonly served: ServedReply[] = [];
  readonly counters: SlaveCounters = { requests: 0, replies: 0, corrupted: 0, exceptions: 0, unanswered: 0, garbageBytes: 0 };
  readonly faults: { silent: Set<number>; exceptions: Map<number, number>; corruptRate: number; garbageRate: number; maxGarbageBytes: number };
  private readonly units: Map<number, SimulatedUnit>;
  private readonly random: () => number;
  private server!: ServerLike;
  /** The last read served by the vector, waiting for its reply to be written. */
  private lastRead: ServedReply | undefined;

  private constructor(units: readonly SimulatedUnit[], faults: SlaveFaults) {
    this.units = new Map(units.map((u) => [u.unitId, u]));
    this.faults = {
      silent: new Set(faults.silentUnits ?? []),
      exceptions: new Map(faults.exceptionUnits ?? []),
      corruptRate: faults.corruptRate ?? 0,
      garbageRate: faults.garbageRate ?? 0,
      maxGarbageBytes: faults.maxGarbageBytes ?? 16,
    };
    this.random = seededRandom(faults.seed ?? 'modbus-slave');
  }

  /** Opens `path` and serves `units` on it; resolves once the port is open. */
  static async open(path: string, units: readonly SimulatedUnit[], framing: SerialFraming = {}, faults: SlaveFaults = {}): Promise<ModbusSlaveSimulator> {
    const sim = new ModbusSlaveSimulator(units, faults);
    await new Promise<void>((resolve, reject) => {
      const vector = {
        getHoldingRegister: (addr: number, unitID: number, cb: Cb) => sim.serve(3, addr, 1, unitID, (e, v) => cb(e, Array.isArray(v) ? v[0] : v)),
        getMultipleHoldingRegisters: (addr: number, len: number, unitID: number, cb: Cb) => sim.serve(3, addr, len, unitID, cb),
        getInputRegister: (addr: number, unitID: number, cb: Cb) => sim.serve(4, addr, 1, unitID, (e, v) => cb(e, Array.isArray(v) ? v[0] : v)),
        getMultipleInputRegisters: (addr: number, len: number, unitID: number, cb: Cb) => sim.serve(4, addr, len, unitID, cb),
      };
      const ServerCtor = (ModbusRTU as unknown as { ServerSerial: unknown }).ServerSerial as new (v: unknown, o: unknown) => ServerLike;
      sim.server = new ServerCtor(vector, {
        path,
        baudRate: framing.baudRate ?? 9600,
        parity: framing.parity ?? 'even',
        dataBits: framing.dataBits ?? 8,
        stopBits: framing.stopBits ?? 1,
        unitID: 255, // answer for every unit id: the vector decides who is on the bus
        // Replies pass through the fault injector on their way to the port.
        portResponse: { write: (reply: Buffer) => sim.send(reply) },
        openCallback: (err?: Error | null) => (err ? reject(err) : resolve()),
      });
      sim.server.on('socketError', () => {});
    });
    return sim;
  }

  /** Writes `bytes` random garbage bytes onto the bus now. */
  injectGarbage(bytes: number): void {
    const g = Buffer.from(Array.from({ length: bytes }, () => Math.floor(this.random() * 256)));
    this.counters.garbageBytes += g.length;
    this.server.getPort().write(g);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(fn: 3 | 4, address: number, count: number, unitId: number, cb: Cb): void {
    this.counters.requests++;
    const unit = this.units.get(unitId);
    const exception = this.faults.exceptions.get(unitId);
    if ((!unit && exception === undefined) || this.faults.silent.has(unitId)) {
      this.counters.unanswered++; // no callback: ServerSerial sends nothing, as a dead unit would
      return;
    }
    const result: RegisterRead = exception !== undefined || !unit ? { ok: false, exception: exception ?? 4 } : unit.read(fn, address, count);
    if (!result.ok) {
      this.counters.exceptions++;
      this.lastRead = undefined;
      return cb({ modbusErrorCode: result.exception, msg: 'simulated exception' });
    }
    this.lastRead = { unitId, fn, address, registers: result.registers };
    cb(null, result.registers);
  }

  private send(reply: Buffer): boolean {
    const port = this.server.getPort();
    if (this.faults.garbageRate > 0 && this.random() < this.faults.garbageRate) {
      this.injectGarbage(1 + Math.floor(this.random() * this.faults.maxGarbageBytes));
    }
    const read = this.lastRead;
    this.lastRead = undefined;
    if (this.faults.corruptRate > 0 && this.random() < this.faults.corruptRate) {
      const bad = Buffer.from(reply);
      const i = 3 + Math.floor(this.random() * Math.max(1, bad.length - 3));
      bad[Math.min(i, bad.length - 1)]! ^= 0x5a;
      this.counters.corrupted++;
      return port.write(bad);
    }
    this.counters.replies++;
    if (read && (reply[1]! & 0x80) === 0) this.served.push(read);
    return port.write(reply);
  }
}
