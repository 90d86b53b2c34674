/**
 * Bounded line guard, placed before the ReadlineParser. The parser alone keeps appending bytes
 * until it sees a delimiter, so a sensor (or line noise) that never sends '\n' would grow memory
 * without bound. This Transform holds at most `maxLineBytes` of the current line and forwards
 * only complete lines (with their '\n'); a longer line is dropped up to and including its '\n'
 * and reported once through `onOverflow`, so the frames after it are decoded as usual.
 */
import { Transform, type TransformCallback } from 'node:stream';

const NEWLINE = 0x0a;

export class LineLengthGuard extends Transform {
  /** Bytes dropped because they belonged to over-long lines. */
  discardedBytes = 0;
  private parts: Buffer[] = [];
  private held = 0;
  private discarding = false;

  /**
   * @param maxLineBytes most bytes a line may have before its '\n'
   * @param onOverflow called once per over-long line, when the limit is first crossed
   */
  constructor(
    private readonly maxLineBytes: number,
    private readonly onOverflow: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      const stop = nl === -1 ? chunk.length : nl;
      const segment = chunk.subarray(pos, stop);
      pos = nl === -1 ? chunk.length : nl + 1;
      if (this.discarding) {
        this.discardedBytes += segment.length + (nl === -1 ? 0 : 1);
        if (nl !== -1) this.discarding = false;
        continue;
      }
      if (this.held + segment.length > this.maxLineBytes) {
        this.discardedBytes += this.held + segment.length + (nl === -1 ? 0 : 1);
        this.parts = [];
        this.held = 0;
        this.discarding = nl === -1;
        this.onOverflow();
        continue;
      }
      if (nl === -1) {
        // Copy: a held slice must not depend on how the source stream manages its buffers.
        this.parts.push(Buffer.from(segment));
        this.held += segment.length;
        continue;
      }
      const withNewline = chunk.subarray(stop - segment.length, stop + 1);
      const line = this.parts.length === 0 ? withNewline : Buffer.concat([...this.parts, withNewline]);
      this.parts = [];
      this.held = 0;
      this.push(line);
    }
    callback();
  }
}
