/**
 * Property tests of the line codec: what must hold for every message and every byte string,
 * not only for the hand-picked vectors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_NAME_PATTERN, MAX_BODY_CHARS, MAX_CHANNELS, SENSOR_ID_PATTERN, decodeLine, encodeMessage, formatBody,
  type AnyMessage, type Channels, type FrameErrorCode,
} from '../../src/index.ts';
import { loadVectors, type NamedVector } from '../vectors.ts';

const CODES = new Set<FrameErrorCode>([
  'too_long', 'empty', 'no_start', 'no_crc', 'bad_crc_format', 'bad_crc', 'bad_char',
  'unknown_kind', 'bad_field_count', 'bad_id', 'bad_seq', 'bad_number', 'bad_channel', 'bad_value',
]);

/** Printable ASCII without the delimiters `$`, `*` and the field separator `,`: free text fields. */
const TEXT_CHARS = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => !'$*,'.includes(c));
const text = fc.string({ unit: fc.constantFrom(...TEXT_CHARS), maxLength: 60 });
const sensorId = fc.stringMatching(SENSOR_ID_PATTERN);
const seq = fc.integer({ min: 0, max: 65535 });
/** Any finite double in sensor range, plus exact decimals with 0..6 places. */
const value = fc.oneof(
  fc.double({ min: -1e9, max: 1e9, noNaN: true }),
  fc.tuple(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 6 })).map(([n, d]) => Number((n / 10 ** d).toFixed(d))),
  fc.integer({ min: -(1e15 - 1), max: 1e15 - 1 }),
);
const channels: fc.Arbitrary<Channels> = fc
  .uniqueArray(fc.tuple(fc.stringMatching(CHANNEL_NAME_PATTERN), value), { minLength: 1, maxLength: MAX_CHANNELS, selector: ([name]) => name })
  .map((pairs) => Object.fromEntries(pairs));

const message: fc.Arbitrary<AnyMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('HEL' as const), sensorId, seq, protocol: fc.integer({ min: 0, max: 255 }),
    sensorType: fc.stringMatching(/^[a-z][a-z0-9_-]{0,23}$/), firmware: fc.stringMatching(/^[0-9A-Za-z._+-]{1,32}$/),
  }),
  fc.record({ kind: fc.constantFrom('RDG' as const, 'HBT' as const), sensorId, seq, channels }),
  fc.record({ kind: fc.constant('ERR' as const), sensorId, seq, code: fc.stringMatching(/^[A-Z0-9_]{1,24}$/), text }),
  fc.record({ kind: fc.constant('ACK' as const), sensorId, seq, commandSeq: seq, status: fc.constantFrom('OK' as const, 'FAIL' as const), detail: text }),
  fc.record({ kind: fc.constant('CMD' as const), sensorId, seq, command: fc.constantFrom('PING' as const, 'RESET_COUNTER' as const) }),
  fc.record({ kind: fc.constant('CMD' as const), sensorId, seq, command: fc.constant('INTERVAL' as const), seconds: fc.integer({ min: 1, max: 86400 }) }),
);

/** What a receiver gets back: values rounded to the encoder's 6 decimals, -0 as 0. */
function expectedAfterWire(m: AnyMessage): AnyMessage {
  if (m.kind !== 'RDG' && m.kind !== 'HBT') return m;
  const rounded = Object.entries(m.channels).map(([k, v]) => [k, Number(v.toFixed(6)) || 0] as const);
  return { ...m, channels: Object.fromEntries(rounded) };
}

/** A valid message whose body fits in one frame. */
const fitting = message.filter((m) => formatBody(m).length <= MAX_BODY_CHARS);

describe('line codec properties', () => {
  it('encode then decode gives the message back (values at 6 decimals), or encode refuses an oversize body', () => {
    fc.assert(
      fc.property(message, (m) => {
        if (formatBody(m).length > MAX_BODY_CHARS) {
          expect(() => encodeMessage(m)).toThrow(/max 248/);
          return;
        }
        const line = encodeMessage(m);
        expect(line.length).toBeLessThanOrEqual(256);
        expect(decodeLine(line)).toEqual({ ok: true, message: expectedAfterWire(m), skipped: 0 });
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeLine never throws on arbitrary text, bytes or frame-like strings, and names a known code', () => {
    const latin1 = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1'));
    const frameLike = fc
      .tuple(fc.string({ maxLength: 40 }), fc.string({ unit: fc.constantFrom(...'RDGHELCMDACKERR,=.-0123456789abc$*\r\n'), maxLength: 80 }), fc.stringMatching(/^[0-9A-Fa-f]{0,5}$/))
      .map(([noise, body, crc]) => `${noise}$${body}*${crc}\r\n`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 300 }), latin1, frameLike), (line) => {
        const decoded = decodeLine(line);
        if (!decoded.ok) expect(CODES.has(decoded.error.code)).toBe(true);
        else expect(decoded.skipped).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('changing any one byte of a valid frame never yields a different valid message', () => {
    fc.assert(
      fc.property(fitting, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, byte) => {
        const line = encodeMessage(m);
        const i = at % line.length;
        if (line.charCodeAt(i) === byte) return;
        const decoded = decodeLine(line.slice(0, i) + String.fromCharCode(byte) + line.slice(i + 1));
        if (decoded.ok) expect(decoded.message).toEqual(expectedAfterWire(m));
      }),
      { numRuns: 3000 },
    );
  });

  it('exhaustively: every byte value at every position of every canonical valid vector', () => {
    const vectors = loadVectors<NamedVector & { line: string; message: AnyMessage; canonical: boolean }>('frames-valid.json');
    let accepted = 0;
    for (const { line, message: m, canonical } of vectors) {
      if (!canonical) continue;
      for (let i = 0; i < line.length; i++) {
        for (let byte = 0; byte < 256; byte++) {
          if (line.charCodeAt(i) === byte) continue;
          const decoded = decodeLine(line.slice(0, i) + String.fromCharCode(byte) + line.slice(i + 1));
          if (decoded.ok) {
            accepted++;
            expect(decoded.message).toEqual(m);
          }
        }
      }
    }
    // A bare frame has no slack: a changed '$', body byte, '*', CRC digit, CR or LF is always
    // refused (CRC-16 detects every error burst of up to 16 bits, so any one-byte change).
    expect(accepted).toBe(0);
  });
});
