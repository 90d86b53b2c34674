/** The server's PDU encoder against the simulator's independent decoder, and back. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isTextModeSafe, packSeptets, toSeptets, unpackSeptets, fromSeptets } from '../../server/src/notify/channels/gsm-modem/gsm7.ts';
import { decodeDeliver, decodeStatusReport, encodeSubmit, needsUcs2, PduError } from '../../server/src/notify/channels/gsm-modem/pdu.ts';
import { decodeSubmit, encodeDeliver, encodeStatusReport } from '../src/modem/sms-pdu.ts';

function roundTrip(to: string, text: string, maxParts = 10) {
  const pdus = encodeSubmit(to, text, { statusReport: true, reference: 7, maxParts });
  const parts = pdus.map((p) => {
    const d = decodeSubmit(p.hex);
    expect(d.tpduLength).toBe(p.tpduLength);
    expect(d.to).toBe(to);
    expect(d.statusReport).toBe(true);
    return d;
  });
  return { parts, text: parts.map((p) => p.text).join('') };
}

describe('SMS PDU', () => {
  it('matches the well-known "hellohello" GSM-7 packing (3GPP TS 23.038 example)', () => {
    expect(packSeptets(toSeptets('hellohello')!).toString('hex').toUpperCase()).toBe('E8329BFD4697D9EC37');
    expect(fromSeptets(unpackSeptets(Buffer.from('E8329BFD4697D9EC37', 'hex'), 10))).toBe('hellohello');
  });

  it('single GSM-7 and UCS-2 messages survive a round trip', () => {
    const a = roundTrip('+6281234567890', 'AWAS banjir @ Cikeruh {evakuasi} €5');
    expect(a.parts).toHaveLength(1);
    expect(a.text).toBe('AWAS banjir @ Cikeruh {evakuasi} €5');
    expect(a.parts[0]!.ucs2).toBe(false);
    const u = roundTrip('+6281234567890', 'Siaga ᮞᮥᮔ᮪ᮓ — ngungsi 🙏');
    expect(u.parts[0]!.ucs2).toBe(true);
    expect(u.text).toBe('Siaga ᮞᮥᮔ᮪ᮓ — ngungsi 🙏');
  });

  it('long text is split with concatenation headers and reassembles', () => {
    const long = 'AWAS LONGSOR Cimanggung. Segera mengungsi ke titik kumpul. '.repeat(6);
    const g = roundTrip('+628111', long);
    expect(g.parts.length).toBe(Math.ceil(long.length / 153));
    expect(g.parts.map((p) => p.concat)).toEqual(g.parts.map((_, i) => ({ reference: 7, total: g.parts.length, seq: i + 1 })));
    expect(g.text).toBe(long);
    const u = roundTrip('+628111', `Bahaya ✋ ${'x'.repeat(150)}`);
    expect(u.parts).toHaveLength(3);
    expect(u.text).toBe(`Bahaya ✋ ${'x'.repeat(150)}`);
  });

  it('cuts text beyond maxParts and never splits an escape or surrogate pair', () => {
    const g = roundTrip('+628111', '{'.repeat(400), 2);
    expect(g.parts).toHaveLength(2);
    expect(g.text.endsWith('...')).toBe(true);
    expect(g.text.replace(/\.\.\.$/, '')).toMatch(/^\{+$/);
    const e = roundTrip('+628111', '🙏'.repeat(100), 2);
    expect(e.text.endsWith('…')).toBe(true);
    expect(e.text.replace(/…$/, '')).toMatch(/^(🙏)+$/u);
  });

  it('property: any text round-trips through encoder and independent decoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'abcXYZ 09@£{}[]€\n.ñü✋ᮞ—'.split('')), maxLength: 700 }), (text) => {
        const r = roundTrip('+62812000111', text, 10);
        expect(r.text).toBe(text);
      }),
      { numRuns: 150 },
    );
  });

  it('decodes incoming SMS-DELIVER and status reports the simulator encodes', () => {
    expect(decodeDeliver(encodeDeliver('+6281234567890', 'STOP'))).toEqual({ from: '+6281234567890', text: 'STOP' });
    expect(decodeDeliver(encodeDeliver('081234567', 'berhenti ya 🙏')).text).toBe('berhenti ya 🙏');
    expect(decodeStatusReport(encodeStatusReport(42, '+628123', 0))).toMatchObject({ reference: 42, to: '+628123', delivered: true });
    expect(decodeStatusReport(encodeStatusReport(42, '+628123', 0x46)).delivered).toBe(false);
  });

  it('hostile PDUs are a PduError, never a crash', () => {
    for (const bad of ['', 'zz', '0', '00', '0004', 'FFFFFFFF', '00' + '04'.repeat(600), '0006FF']) {
      expect(() => decodeDeliver(bad)).toThrow(PduError);
      expect(() => decodeStatusReport(bad)).toThrow(PduError);
    }
    expect(() => encodeSubmit('+62abc', 'x')).toThrow(PduError);
  });

  it('chooses text mode and UCS-2 by content', () => {
    expect(isTextModeSafe('SIAGA BANJIR Jatinangor 14:05 WIB. Siapkan tas siaga. -BPBD')).toBe(true);
    expect(isTextModeSafe('a@b')).toBe(false);
    expect(isTextModeSafe('x\u001a')).toBe(false);
    expect(needsUcs2('Awas €')).toBe(false);
    expect(needsUcs2('Awas ✋')).toBe(true);
  });
});
