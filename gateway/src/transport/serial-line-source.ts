/**
 * One serial port as a source of text lines: port -> LineLengthGuard -> ReadlineParser -> sink,
 * joined with `stream.pipeline` so an error anywhere tears the whole chain down. A port that
 * fails to open, or closes under us (cable pulled, USB adapter reset), is reopened with capped
 * exponential back-off; nothing here throws into the process.
 */
import { Writable, pipeline } from 'node:stream';
import { MAX_FRAME_BYTES } from '@kentongan/firmware-protocol';
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from './serial-types.ts';
import type { Logger } from 'pino';
import type { PortConfig } from '../config/schema.ts';
import { backoffDelayMs } from './backoff.ts';
import { LineLengthGuard } from './line-guard.ts';

export type PortState = 'open' | 'closed' | 'retrying';

export interface SerialLineSourceOptions {
  port: PortConfig;
  binding: BindingInterface;
  logger: Logger;
  reconnect: { minDelayMs: number; maxDelayMs: number };
  /** Called with each complete line, CR kept, LF removed, decoded as latin1 (one char per byte). */
  onLine(line: string): void;
  /** Called once for each line longer than MAX_FRAME_BYTES; its bytes were dropped. */
  onTooLong(): void;
  onState?(state: PortState): void;
}

export class SerialLineSource {
  private stateNow: PortState = 'closed';
  private stream: SerialPortStream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  /** Times the port was lost after having been open, or failed to open. */
  failures = 0;
  private readonly log: Logger;

  constructor(private readonly opts: SerialLineSourceOptions) {
    this.log = opts.logger.child({ component: 'serial', port: opts.port.path });
  }

  get state(): PortState {
    return this.stateNow;
  }

  /** Makes the first open attempt; resolves when the port is open or the attempt failed (a retry is then scheduled). */
  start(): Promise<void> {
    this.stopped = false;
    return this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await closeQuietly(stream);
    this.setState('closed');
  }

  private async open(): Promise<void> {
    const { path, baudRate, dataBits, parity, stopBits } = this.opts.port;
    const stream = new SerialPortStream({ binding: this.opts.binding, path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => stream.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      stream.destroy();
      this.failures++;
      this.log.warn({ err: (err as Error).message, attempt: this.attempt }, 'serial port open failed');
      this.scheduleRetry();
      return;
    }
    if (this.stopped) {
      await closeQuietly(stream);
      return;
    }
    this.stream = stream;
    this.attempt = 0;
    this.setState('open');
    this.log.info({ baudRate, dataBits, parity, stopBits }, 'serial port open');
    this.wire(stream);
  }

  private wire(stream: SerialPortStream): void {
    const guard = new LineLengthGuard(MAX_FRAME_BYTES, () => this.opts.onTooLong());
    const parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
    const sink = new Writable({
      objectMode: true,
      write: (line: string, _encoding, callback) => {
        try {
          this.opts.onLine(line);
        } catch (err) {
          // A bug in the line handler must not stop the port: log it and go on with the next line.
          this.log.error({ err }, 'line handler failed');
        }
        callback();
      },
    });
    // SerialPortStream emits 'close' (not 'end') when the device goes away; pipeline reports
    // that as a premature close and destroys the chain, which is where we pick up the pieces.
    pipeline(stream, guard, parser, sink, (err) => {
      if (this.stream !== stream) return; // stop() or a newer connection owns the state now
      this.stream = undefined;
      if (this.stopped) return;
      this.failures++;
      this.log.warn({ err: err?.message }, 'serial port lost');
      void closeQuietly(stream).then(() => this.scheduleRetry());
    });
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const delay = backoffDelayMs(this.attempt++, this.opts.reconnect.minDelayMs, this.opts.reconnect.maxDelayMs);
    this.setState('retrying');
    this.log.info({ delayMs: delay, attempt: this.attempt }, 'serial port retry scheduled');
    this.retryTimer = setTimeout(() => void this.open(), delay);
  }

  private setState(state: PortState): void {
    if (state === this.stateNow) return;
    this.stateNow = state;
    this.opts.onState?.(state);
  }
}

/** Closes the binding (a destroyed stream does not) so the device is released for the next open. */
function closeQuietly(stream: SerialPortStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.isOpen) {
      stream.destroy();
      return resolve();
    }
    stream.close(() => {
      stream.destroy();
      resolve();
    });
  });
}
