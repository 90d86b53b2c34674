import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MAX_FRAME_BYTES, decodeLine } from '@kentongan/firmware-protocol';
import { ReadlineParser } from '@serialport/parser-readline';
import { describe, expect, it } from 'vitest';
import { LineLengthGuard } from '../../src/transport/line-guard.ts';
import { rdg } from '../helpers/fixtures.ts';

/** Runs chunks through guard -> ReadlineParser and returns the lines and the overflow count. */
async function run(chunks: (string | Buffer)[], max = MAX_FRAME_BYTES) {
  let overflows = 0;
  const guard = new LineLengthGuard(max, () => overflows++);
  const lines: string[] = [];
  await pipeline(
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c))),
    guard,
    new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }),
    new Writable({
      objectMode: true,
      write(line: string, _e, cb) {
        lines.push(line);
        cb();
      },
    }),
  );
  return { lines, overflows, discarded: guard.discardedBytes };
}

describe('LineLengthGuard', () => {
  it('passes ordinary lines through, also when split across chunks', async () => {
    const frame = rdg('wl-01', 1, { level_cm: 42 });
    const { lines, overflows } = await run([frame.slice(0, 5), frame.slice(5) + 'abc', '\n', frame]);
    expect(overflows).toBe(0);
    expect(lines).toEqual([frame.slice(0, -1), 'abc', frame.slice(0, -1)]);
    expect(decodeLine(lines[0]!).ok).toBe(true);
  });

  it('1 MB without a newline: one too_long, bytes dropped, the following frame still decoded', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const frame = rdg('wl-01', 7, { level_cm: 123.5 });
    const { lines, overflows, discarded } = await run([...Array.from({ length: 16 }, () => chunk), '\n', frame]);
    expect(overflows).toBe(1);
    expect(discarded).toBe(16 * 64 * 1024 + 1);
    expect(lines).toHaveLength(1);
    const decoded = decodeLine(lines[0]!);
    expect(decoded.ok && decoded.message).toMatchObject({ kind: 'RDG', sensorId: 'wl-01', seq: 7, channels: { level_cm: 123.5 } });
  });

  it('a frame glued to the end of a long garbage line is lost with it, the next line is not', async () => {
    const frame = rdg('wl-01', 8, { level_cm: 1 });
    const { lines, overflows } = await run(['x'.repeat(300) + frame, frame]);
    expect(overflows).toBe(1);
    expect(lines).toEqual([frame.slice(0, -1)]);
  });

  it('accepts a line of exactly the limit and refuses one byte more', async () => {
    const ok = await run(['a'.repeat(10) + '\n'], 10);
    expect(ok).toMatchObject({ lines: ['a'.repeat(10)], overflows: 0 });
    const tooLong = await run(['a'.repeat(11) + '\nb\n'], 10);
    expect(tooLong).toMatchObject({ lines: ['b'], overflows: 1 });
  });

  it('counts each over-long line once, however it is chunked', async () => {
    const long = 'z'.repeat(1000);
    const { lines, overflows } = await run([long.slice(0, 100), long.slice(100), '\nok\n', long, '\n', long + '\n'], 256);
    expect(overflows).toBe(3);
    expect(lines).toEqual(['ok']);
  });

  it('holds at most the limit: the parser never sees an over-long partial line', async () => {
    let maxChunk = 0;
    const guard = new LineLengthGuard(MAX_FRAME_BYTES, () => {});
    guard.on('data', (b: Buffer) => (maxChunk = Math.max(maxChunk, b.length)));
    await pipeline(Readable.from([Buffer.alloc(200_000, 0x24), Buffer.from('\nshort\n')]), guard);
    expect(maxChunk).toBeLessThanOrEqual(MAX_FRAME_BYTES + 1);
  });
});
