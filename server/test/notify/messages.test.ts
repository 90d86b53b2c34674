import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Alert } from '../../src/alerts/types.ts';
import { formatValue, formatWib, renderMessage, SMS_MAX_CHARS, type MessageInput } from '../../src/notify/messages.ts';

function alertOf(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a1',
    ruleId: 'r1',
    hazard: 'flood',
    areaId: 'jatinangor',
    siteId: 'pos',
    sensorId: 'wl-01',
    level: 'Awas',
    maxLevel: 'Awas',
    state: 'open',
    evidence: { value: 215.37, unit: 'cm', ts: '2026-11-28T07:05:00.000Z', threshold: 210 },
    openedAt: '2026-11-28T07:05:10.000Z',
    updatedAt: '2026-11-28T07:05:10.000Z',
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    note: null,
    ...over,
  };
}

function input(over: Partial<MessageInput> = {}): MessageInput {
  return {
    alert: alertOf(),
    change: 'opened',
    from: null,
    to: 'Awas',
    at: '2026-11-28T09:30:00.000Z',
    quantity: 'water_level',
    siteName: 'Pos Duga Air Cikeruh',
    areaName: 'Kecamatan Jatinangor',
    sender: 'BPBD Sumedang',
    ...over,
  };
}

describe('formatWib', () => {
  it('shows UTC+7 with date rollover', () => {
    expect(formatWib('2026-11-28T07:05:00.000Z')).toBe('28/11/2026 14:05 WIB');
    expect(formatWib('2026-12-31T17:30:00.000Z')).toBe('01/01/2027 00:30 WIB');
    expect(formatWib('garbage')).toBe('garbage');
  });
});

describe('formatValue', () => {
  it('rounds to one decimal, with a decimal comma in Bahasa', () => {
    expect(formatValue(215.37, 'id')).toBe('215,4');
    expect(formatValue(215.37, 'en')).toBe('215.4');
    expect(formatValue(60, 'id')).toBe('60');
  });
});

describe('renderMessage', () => {
  it('says level, hazard, place, value, WIB time, action and sender in Bahasa and English', () => {
    const m = renderMessage(input());
    expect(m.id).toBe(
      'AWAS BANJIR di Pos Duga Air Cikeruh, Kecamatan Jatinangor: muka air 215,4 cm, 28/11/2026 14:05 WIB. SEGERA MENGUNGSI ke tempat aman! -BPBD Sumedang',
    );
    expect(m.en).toBe(
      'AWAS FLOOD at Pos Duga Air Cikeruh, Kecamatan Jatinangor: water level 215.4 cm, 28/11/2026 14:05 WIB. EVACUATE NOW to a safe place! -BPBD Sumedang',
    );
  });

  it('gives the action of each level', () => {
    expect(renderMessage(input({ to: 'Waspada' })).id).toContain('Siapkan rencana');
    expect(renderMessage(input({ to: 'Waspada' })).en).toContain('Be prepared');
    expect(renderMessage(input({ to: 'Siaga', change: 'escalated' })).id).toMatch(/^NAIK ke SIAGA .*Bersiap mengungsi, amankan barang berharga\./);
    expect(renderMessage(input({ to: 'Siaga', change: 'escalated' })).en).toContain('Get ready to evacuate');
    expect(renderMessage(input({ to: 'Siaga', change: 'deescalated' })).id).toMatch(/^TURUN ke SIAGA /);
  });

  it('words landslides as longsor', () => {
    const m = renderMessage(
      input({
        alert: alertOf({ hazard: 'landslide', evidence: { value: 112, unit: 'mm', ts: '2026-11-28T07:05:00.000Z', threshold: 100 } }),
        quantity: 'displacement',
        to: 'Siaga',
        siteName: 'Lereng Bojongkondang',
        areaName: 'Kec. Cimanggung',
      }),
    );
    expect(m.id).toContain('SIAGA LONGSOR di Lereng Bojongkondang');
    expect(m.id).toContain('112 mm');
    expect(m.en).toContain('LANDSLIDE');
  });

  it('announces the all-clear at the time of the change', () => {
    const m = renderMessage(input({ change: 'resolved', from: 'Waspada', to: 'Normal' }));
    expect(m.id).toMatch(/^AMAN: .*kembali Normal, 28\/11\/2026 16:30 WIB\./);
    expect(m.en).toMatch(/^ALL CLEAR: .*back to Normal, 28\/11\/2026 16:30 WIB\./);
  });

  it('keeps the Bahasa text within one plain-ASCII SMS for any names and a sender up to 20 chars', () => {
    const name = fc.string({ unit: fc.constantFrom(...'abcdefghij KLMNOP-.'.split('')), minLength: 1, maxLength: 100 });
    fc.assert(
      fc.property(
        name,
        name,
        fc.string({ unit: fc.constantFrom(...'BPDSumedang '.split('')), minLength: 1, maxLength: 20 }),
        fc.constantFrom('opened', 'escalated', 'deescalated', 'resolved' as const),
        fc.constantFrom('Waspada', 'Siaga', 'Awas' as const),
        fc.constantFrom('flood', 'landslide' as const),
        fc.double({ min: -1000, max: 100000, noNaN: true }),
        (siteName, areaName, sender, change, level, hazard, value) => {
          const m = renderMessage(
            input({
              alert: alertOf({ hazard, evidence: { value, unit: 'cm', ts: '2026-11-28T07:05:00.000Z', threshold: 1 } }),
              change,
              to: change === 'resolved' ? 'Normal' : level,
              siteName,
              areaName,
              sender,
            }),
          );
          return m.id.length <= SMS_MAX_CHARS && /^[\x20-\x7e]+$/.test(m.id) && !/[[\]{}\\~^|]/.test(m.id);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('shortens long place names only as far as needed', () => {
    // Too long with the area: the area goes first, the site name stays whole.
    const site = 'Pos Pengamatan Muka Air Cikeruh Hilir Cileunyi';
    const m = renderMessage(input({ siteName: site, areaName: 'Kecamatan Jatinangor' }));
    expect(m.id.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    expect(m.id).toContain(`di ${site}: muka air`);
    expect(m.id).not.toContain('Jatinangor');
    expect(m.en).toContain('Kecamatan Jatinangor'); // English is not SMS-bound
    // Longer still: the site name is cut with an ASCII ellipsis.
    const cut = renderMessage(input({ siteName: `${site} Dekat Jembatan Tol Cisumdawu Seksi Satu`, areaName: 'X' }));
    expect(cut.id.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    expect(cut.id).toMatch(/di Pos Pengamatan[^:]*\.\.\.: /);
  });
});
