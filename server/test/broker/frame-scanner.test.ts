/** The MQTT fixed-header scanner on its own: split headers, many packets per chunk, limits. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttFrameScanner, type FrameLimits } from '../../src/broker/frame-scanner.ts';

const LIMITS: FrameLimits = { maxRemainingLength: 1000, preAuthMaxRemainingLength: 100, preAuthMaxBytes: 300 };
const CONNECT = 1;
const PUBLISH = 3;

/** MQTT 3.1.1 §2.2.3 remaining length: 7 bits a byte, least significant first. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
const header = (type: number, length: number) => Buffer.from([type << 4, ...varint(length)]);
const packet = (type: number, length: number) => Buffer.concat([header(type, length), Buffer.alloc(length, 0x41)]);

describe('MqttFrameScanner', () => {
  it('encodes remaining lengths as the spec examples (§2.2.3 table 2.4)', () => {
    expect(varint(127)).toEqual([0x7f]);
    expect(varint(128)).toEqual([0x80, 0x01]);
    expect(varint(16_383)).toEqual([0xff, 0x7f]);
    expect(varint(268_435_455)).toEqual([0xff, 0xff, 0xff, 0x7f]);
  });

  it('accepts a CONNECT then many packets in one chunk', () => {
    const s = new MqttFrameScanner(LIMITS);
    expect(s.feed(Buffer.concat([packet(CONNECT, 60), packet(12, 0), packet(PUBLISH, 90), packet(12, 0)]))).toEqual({ ok: true });
  });

  it('accepts the same stream fed one byte at a time', () => {
    const s = new MqttFrameScanner(LIMITS);
    const bytes = Buffer.concat([packet(CONNECT, 99), packet(PUBLISH, 100), packet(PUBLISH, 0)]);
    for (const b of bytes) expect(s.feed(Buffer.from([b]))).toEqual({ ok: true });
  });

  it('refuses a CONNECT declaring 200 MiB from its header, even split across chunks', () => {
    const s = new MqttFrameScanner(LIMITS);
    const h = header(CONNECT, 200 * 1024 * 1024);
    expect(h.length).toBe(5);
    expect(s.feed(h.subarray(0, 2))).toEqual({ ok: true });
    expect(s.feed(h.subarray(2, 4))).toEqual({ ok: true });
    const v = s.feed(h.subarray(4));
    expect(v).toMatchObject({ ok: false, violation: 'oversize', packetType: CONNECT, remainingLength: 200 * 1024 * 1024, limit: 100 });
    // Stays refused: nothing after a violation is let through.
    expect(s.feed(packet(12, 0))).toMatchObject({ ok: false, violation: 'oversize' });
  });

  it('reports an oversized header as oversize even when its chunk also overruns the pre-auth total', () => {
    const s = new MqttFrameScanner(LIMITS);
    const v = s.feed(Buffer.concat([header(CONNECT, 200 * 1024 * 1024), Buffer.alloc(1000)]));
    expect(v).toMatchObject({ ok: false, violation: 'oversize' });
  });

  it('applies the small limit before authentication and the large one after', () => {
    const before = new MqttFrameScanner(LIMITS);
    expect(before.feed(packet(CONNECT, 50))).toEqual({ ok: true });
    expect(before.feed(header(PUBLISH, 101))).toMatchObject({ ok: false, violation: 'oversize', limit: 100 });

    const after = new MqttFrameScanner(LIMITS);
    expect(after.feed(packet(CONNECT, 50))).toEqual({ ok: true });
    after.authenticated();
    expect(after.feed(packet(PUBLISH, 1000))).toEqual({ ok: true });
    expect(after.feed(header(PUBLISH, 1001))).toMatchObject({ ok: false, violation: 'oversize', limit: 1000 });
  });

  it('refuses a first packet that is not CONNECT', () => {
    expect(new MqttFrameScanner(LIMITS).feed(packet(12, 0))).toMatchObject({ ok: false, violation: 'not_connect', packetType: 12 });
  });

  it('refuses a fifth remaining-length byte', () => {
    const s = new MqttFrameScanner(LIMITS);
    expect(s.feed(Buffer.from([CONNECT << 4, 0x80, 0x80, 0x80, 0x80]))).toMatchObject({ ok: false, violation: 'malformed_length' });
  });

  it('refuses more bytes than a CONNECT needs before authentication, small packets or not', () => {
    const s = new MqttFrameScanner(LIMITS);
    expect(s.feed(packet(CONNECT, 98))).toEqual({ ok: true });
    expect(s.feed(packet(PUBLISH, 98))).toEqual({ ok: true }); // 200 bytes so far
    expect(s.feed(packet(PUBLISH, 99))).toMatchObject({ ok: false, violation: 'too_much_before_auth', limit: 300 }); // 301
  });

  it('never refuses allowed packets, however the stream is cut (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
        (lengths, cuts) => {
          const s = new MqttFrameScanner(LIMITS);
          const bytes = Buffer.concat([packet(CONNECT, 100), ...lengths.map((n) => packet(PUBLISH, n))]);
          expect(s.feed(bytes.subarray(0, 102))).toEqual({ ok: true });
          s.authenticated();
          let at = 102;
          for (let i = 0; at < bytes.length; i++) {
            const next = Math.min(bytes.length, at + cuts[i % cuts.length]!);
            expect(s.feed(bytes.subarray(at, next))).toEqual({ ok: true });
            at = next;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
