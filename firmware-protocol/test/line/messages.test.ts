import { describe, expect, it } from 'vitest';
import { MAX_BODY_CHARS, decodeLine, encodeMessage, formatBody, frameBody, type AnyMessage, type FrameErrorCode } from '../../src/index.ts';
import { loadVectors, type NamedVector } from '../vectors.ts';

interface ValidFrame extends NamedVector {
  line: string;
  message: AnyMessage;
  skipped: number;
  canonical: boolean;
}
interface InvalidFrame extends NamedVector {
  line: string;
  error: FrameErrorCode;
}

const valid = loadVectors<ValidFrame>('frames-valid.json');
const invalid = loadVectors<InvalidFrame>('frames-invalid.json');

describe('frames-valid.json', () => {
  it.each(valid)('$name', ({ line, message, skipped }) => {
    const decoded = decodeLine(line);
    expect(decoded).toEqual({ ok: true, message, skipped });
  });

  it.each(valid.filter((v) => v.canonical))('$name: the encoder writes exactly this line', ({ line, message }) => {
    expect(encodeMessage(message)).toBe(line);
  });

  it.each(valid)('$name: a prefix of the line never decodes to another message', ({ line, message }) => {
    for (let end = 0; end < line.length; end++) {
      const decoded = decodeLine(line.slice(0, end));
      if (decoded.ok) expect(decoded.message).toEqual(message);
    }
  });
});

describe('frames-invalid.json', () => {
  it.each(invalid)('$name -> $error', ({ line, error }) => {
    const decoded = decodeLine(line);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.code).toBe(error);
      expect(decoded.error.message.length).toBeGreaterThan(0);
    }
  });
});

describe('encodeMessage refuses what no receiver would accept', () => {
  const rdg = (channels: Record<string, number>, sensorId = 'rg-01'): AnyMessage => ({ kind: 'RDG', sensorId, seq: 1, channels });
  it.each<[string, AnyMessage]>([
    ['a bad sensor id', rdg({ tips: 1 }, 'rg 01')],
    ['no channels', rdg({})],
    ['nine channels', rdg(Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`c${i}`, i])))],
    ['an upper-case channel name', rdg({ Tips: 1 })],
    ['a non-finite value', rdg({ tips: Number.NaN })],
    ['a value of 1e15 or more', rdg({ dist_mm: 1e15 })],
    ['a seq over 65535', { kind: 'RDG', sensorId: 'rg-01', seq: 65536, channels: { tips: 1 } }],
    ['a fractional seq', { kind: 'HBT', sensorId: 'rg-01', seq: 1.5, channels: { batt_v: 3.9 } }],
    ['a comma in an ERR text', { kind: 'ERR', sensorId: 'rg-01', seq: 1, code: 'X', text: 'a,b' }],
    ['a lower-case ERR code', { kind: 'ERR', sensorId: 'rg-01', seq: 1, code: 'x', text: '' }],
    ['a comma in an ACK detail', { kind: 'ACK', sensorId: 'rg-01', seq: 1, commandSeq: 2, status: 'FAIL', detail: 'a,b' }],
    ['a HEL with a bad sensor type', { kind: 'HEL', sensorId: 'rg-01', seq: 0, protocol: 1, sensorType: 'Rain', firmware: '1' }],
    ['an interval of 0 s', { kind: 'CMD', sensorId: 'rg-01', seq: 1, command: 'INTERVAL', seconds: 0 }],
    ['a "*" in an ERR text', { kind: 'ERR', sensorId: 'rg-01', seq: 1, code: 'X', text: 'a*b' }],
  ])('%s', (_what, message) => {
    expect(() => encodeMessage(message)).toThrow();
  });

  it('refuses a body over the frame limit, and accepts one exactly at it', () => {
    const at = { kind: 'ERR', sensorId: 'rg-01', seq: 1, code: 'X', text: '' } as const;
    const text = 'a'.repeat(MAX_BODY_CHARS - formatBody({ ...at, text: 'a' }).length + 1);
    const fits = encodeMessage({ ...at, text });
    expect(fits.length).toBe(256);
    expect(() => encodeMessage({ ...at, text: `${text}a` })).toThrow(/max 248/);
  });

  it('frameBody refuses delimiters and control characters', () => {
    expect(() => frameBody('ERR,a,1,X,$')).toThrow();
    expect(() => frameBody('ERR,a,1,X,\n')).toThrow();
    expect(frameBody('')).toBe('$*FFFF\r\n');
  });

  it('writes an ERR without text and an ACK without detail with no trailing comma', () => {
    expect(formatBody({ kind: 'ERR', sensorId: 'a', seq: 1, code: 'X', text: '' })).toBe('ERR,a,1,X');
    expect(formatBody({ kind: 'ACK', sensorId: 'a', seq: 1, commandSeq: 2, status: 'OK', detail: '' })).toBe('ACK,a,1,2,OK');
  });
});
