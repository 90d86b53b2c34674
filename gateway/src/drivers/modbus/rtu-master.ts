/**
 * A minimal Modbus RTU master for reads (functions 03/04) over any byte link. Written here
 * instead of using modbus-serial's master because a field bus needs two things it lacks: the
 * receive buffer is cleared before each request (a late reply to a timed-out request must never
 * be taken for the answer to the next one), and a reply is searched for at every offset with
 * its CRC checked, so garbage in front of or behind a good frame costs only the garbage.
 * One request at a time: the bus queue (modbus-bus.ts) guarantees it.
 */
import { crc16Modbus, withCrc } from './crc.ts';

export type ModbusFailureCode = 'timeout' | 'crc' | 'exception' | 'closed';

/** A failed request; `code` is stable, `exceptionCode` is the device's Modbus exception (1..255). */
export class ModbusRequestError extends Error {
  constructor(
    readonly code: ModbusFailureCode,
    message: string,
    readonly exceptionCode?: number,
  ) {
    super(message);
    this.name = 'ModbusRequestError';
  }
}

interface Pending {
  unit: number;
  fn: number;
  count: number;
  sawBadCrc: boolean;
  resolve(data: Buffer): void;
  reject(err: ModbusRequestError): void;
  timer: NodeJS.Timeout;
}

/** Receive buffer bound: a reply is at most 255 bytes; garbage beyond this is dropped (and counted). */
const MAX_RX_BYTES = 1024;

export class RtuMaster {
  private rx: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  /** Bytes received that were not part of an accepted reply (noise, corrupt or late frames). */
  discardedBytes = 0;

  constructor(private readonly write: (frame: Buffer) => void) {}

  /** Feed bytes read from the line. */
  receive(chunk: Buffer): void {
    this.rx = this.rx.length === 0 ? chunk : Buffer.concat([this.rx, chunk]);
    if (this.rx.length > MAX_RX_BYTES) {
      this.discardedBytes += this.rx.length - MAX_RX_BYTES;
      this.rx = this.rx.subarray(this.rx.length - MAX_RX_BYTES);
    }
    if (this.pending) this.scan(this.pending);
  }

  /** Reads `count` registers; resolves with their 2×count bytes. */
  read(unit: number, fn: 3 | 4, address: number, count: number, timeoutMs: number): Promise<Buffer> {
    if (this.pending) return Promise.reject(new Error('RtuMaster: one request at a time'));
    this.discardedBytes += this.rx.length;
    this.rx = Buffer.alloc(0);
    const request = withCrc(Uint8Array.of(unit, fn, address >>> 8, address & 0xff, count >>> 8, count & 0xff));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending;
        this.pending = undefined;
        this.discardedBytes += this.rx.length;
        this.rx = Buffer.alloc(0);
        if (p?.sawBadCrc) reject(new ModbusRequestError('crc', `unit ${unit}: reply with a bad CRC`));
        else reject(new ModbusRequestError('timeout', `unit ${unit}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { unit, fn, count, sawBadCrc: false, resolve, reject, timer };
      try {
        this.write(request);
      } catch (err) {
        clearTimeout(timer);
        this.pending = undefined;
        reject(new ModbusRequestError('closed', `write failed: ${(err as Error).message}`));
      }
    });
  }

  /** Fails a request in flight (the port closed). */
  abort(reason: string): void {
    const p = this.pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.reject(new ModbusRequestError('closed', reason));
  }

  private scan(p: Pending): void {
    const buf = this.rx;
    const replyLength = 5 + 2 * p.count;
    for (let i = 0; i + 5 <= buf.length; i++) {
      if (buf[i] !== p.unit) continue;
      const fn = buf[i + 1];
      if (fn === p.fn && buf[i + 2] === 2 * p.count && i + replyLength <= buf.length) {
        if (crcOk(buf, i, replyLength)) return this.finish(p, replyLength, () => p.resolve(Buffer.from(buf.subarray(i + 3, i + 3 + 2 * p.count))));
        p.sawBadCrc = true;
      } else if (fn === (p.fn | 0x80) && crcOk(buf, i, 5)) {
        const code = buf[i + 2]!;
        return this.finish(p, 5, () => p.reject(new ModbusRequestError('exception', `unit ${p.unit}: exception ${code}`, code)));
      }
    }
  }

  private finish(p: Pending, length: number, settle: () => void): void {
    clearTimeout(p.timer);
    this.pending = undefined;
    this.discardedBytes += this.rx.length - length;
    this.rx = Buffer.alloc(0);
    settle();
  }
}

function crcOk(buf: Buffer, start: number, length: number): boolean {
  const crc = crc16Modbus(buf, start, start + length - 2);
  return buf[start + length - 2] === (crc & 0xff) && buf[start + length - 1] === crc >>> 8;
}
