/**
 * A Duplex between a TCP socket and `aedes.handle`: bytes pass through unchanged unless the frame
 * scanner finds a violation in a chunk, then that chunk is withheld and the socket destroyed, so
 * aedes never starts buffering an oversized packet. Writes go straight to the socket.
 *
 * aedes (lib/client.js) needs of its connection only stream behaviour: 'readable' + `read()`,
 * `write()` with 'drain', 'end', 'error', `destroy()`, `setMaxListeners()` and `finished()`.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { FrameVerdict, MqttFrameScanner } from './frame-scanner.ts';

export type RejectedFrame = Extract<FrameVerdict, { ok: false }>;

export class GuardedConnection extends Duplex {
  /** Kept from the socket at accept time (the socket's own field is cleared once it closes). */
  readonly remoteAddress: string;

  constructor(
    private readonly socket: Socket,
    private readonly scanner: MqttFrameScanner,
    onReject: (verdict: RejectedFrame) => void,
  ) {
    // Match the socket's buffering so the wrapper adds no extra read-ahead.
    super({ allowHalfOpen: false, readableHighWaterMark: socket.readableHighWaterMark });
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    socket.on('data', (chunk: Buffer) => {
      const verdict = scanner.feed(chunk);
      if (!verdict.ok) {
        onReject(verdict);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** The client passed authentication (called from the authenticate hook, before CONNACK). */
  markAuthenticated(): void {
    this.scanner.authenticated();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) cb();
    else this.socket.once('drain', () => cb());
  }

  // mqtt-packet corks the stream around one packet's parts: keep them in one socket write.
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.socket.cork();
    let ok = true;
    for (const { chunk } of chunks) ok = this.socket.write(chunk);
    this.socket.uncork();
    if (ok) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
