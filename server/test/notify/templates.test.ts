import { LEVELS } from '@kentongan/firmware-protocol';
import { describe, expect, it } from 'vitest';
import { gsm7Length, toGsm7 } from '../../src/notify/templates/gsm7.ts';
import { renderConfirmation, renderText, shortWib, SMS_SEPTETS, type RenderInput, type TemplateKind } from '../../src/notify/templates/render.ts';
import {
  CONFIRM_TEXTS,
  HAZARDS,
  LANGUAGES,
  PUBLIC_TEXTS,
  STOP_WORK_TEXTS,
  TECHNICIAN_TEXTS,
  UNACKNOWLEDGED_TEXTS,
} from '../../src/notify/templates/texts.ts';

/** Real, long Sumedang place names (DOMAIN notes: Cimanggung 2021, Cadas Pangeran, Jatigede). */
const PLACES = [
  { site: 'Bojongkondang', area: 'Desa Cihanjuang, Kec. Cimanggung' },
  { site: 'Pos Duga Air Sungai Cikeruh Jembatan Cibeusi', area: 'Kecamatan Jatinangor' },
  { site: 'Lereng Cadas Pangeran KM 12 sisi timur jalan nasional', area: 'Kecamatan Sumedang Selatan' },
  { site: 'Tepi Waduk Jatigede Blok Cipaku', area: 'Desa Cipaku, Kecamatan Darmaraja, Kabupaten Sumedang' },
];

function input(over: Partial<RenderInput>): RenderInput {
  return {
    kind: 'public',
    language: 'id',
    hazard: 'landslide',
    change: 'opened',
    level: 'Awas',
    siteName: 'Bojongkondang',
    areaName: 'Desa Cihanjuang',
    sensorId: 'cmg-ext-01',
    at: '2026-11-28T08:31:00.000Z',
    sender: 'BPBD Sumedang',
    ...over,
  };
}

describe('templates as data', () => {
  it('has a resident text for every (level, hazard, language), Normal being the all-clear', () => {
    for (const lang of LANGUAGES) for (const hazard of HAZARDS) for (const level of LEVELS) {
      const t = PUBLIC_TEXTS[lang][hazard][level];
      expect(t, `${lang}/${hazard}/${level}`).toMatch(/\{place\}.*\{time\}.*-\{sender\}$/);
      if (level !== 'Normal') expect(t).toContain('{head}');
    }
    for (const lang of LANGUAGES) {
      for (const level of LEVELS) expect(STOP_WORK_TEXTS[lang][level]).toContain('{place}');
      expect(TECHNICIAN_TEXTS[lang].active).toContain('{sensor}');
      for (const hazard of HAZARDS) expect(UNACKNOWLEDGED_TEXTS[lang][hazard]).toContain('{level}');
      expect(CONFIRM_TEXTS[lang]).toContain('{code}');
    }
  });

  it('every rendered text fits one GSM-7 SMS with realistic long names, and keeps place, level, time and sender', () => {
    const kinds: TemplateKind[] = ['public', 'stopwork', 'technician', 'unacknowledged'];
    const changes = ['opened', 'escalated', 'deescalated', 'resolved', 'unacknowledged'] as const;
    let checked = 0;
    for (const kind of kinds) for (const language of LANGUAGES) for (const hazard of HAZARDS) for (const level of LEVELS) for (const change of changes) for (const p of PLACES) {
      const r = renderText(input({ kind, language, hazard, level, change, siteName: p.site, areaName: p.area }));
      expect(r.septets, r.text).not.toBeNull();
      expect(r.septets!, r.text).toBeLessThanOrEqual(SMS_SEPTETS);
      expect(r.text).toContain('WIB');
      expect(r.text).toContain('BPBD Sumedang');
      expect(r.text).toContain(p.site.slice(0, 15));
      checked++;
    }
    expect(checked).toBe(4 * 3 * 2 * 4 * 5 * 4);
  });

  it('says the level and what to do', () => {
    const awas = renderText(input({ hazard: 'flood', level: 'Awas' })).text;
    expect(awas).toMatch(/^AWAS BANJIR Bojongkondang, Desa Cihanjuang 28\/11 15:31 WIB\. SEGERA MENGUNGSI/);
    expect(renderText(input({ change: 'escalated', level: 'Siaga', language: 'en' })).text).toMatch(/^UP to SIAGA LANDSLIDE .*Get ready to evacuate/);
    expect(renderText(input({ change: 'resolved', level: 'Normal' })).text).toMatch(/^AMAN: longsor .* kembali NORMAL/);
    expect(renderText(input({ kind: 'stopwork', level: 'Siaga' })).text).toMatch(/^STOP KERJA SIAGA LONGSOR .*Hentikan kerja di lereng selama hujan/);
    expect(renderText(input({ language: 'su' })).text).toMatch(/GEURA NGUNGSI/);
  });

  it('hostile names cannot break a line, force UCS-2 or overflow', () => {
    const r = renderText(input({ siteName: 'Pos\r\nCikeruh ☔ «Jembatan» 😀 ' + 'x'.repeat(300), areaName: 'Ciéndé\u2028evil', sender: 'BPBD\nSumedang' }));
    expect(r.text).not.toMatch(/[\r\n\u2028]/);
    expect(r.septets).not.toBeNull();
    expect(r.septets!).toBeLessThanOrEqual(SMS_SEPTETS);
    expect(toGsm7('Ciéndé')).toBe('Ciende');
    expect(gsm7Length('a€')).toBe(3);
    expect(gsm7Length('日本')).toBeNull();
  });

  it('shows WIB time and the confirmation code', () => {
    expect(shortWib('2026-11-28T17:05:00Z')).toBe('29/11 00:05 WIB');
    expect(shortWib('nonsense')).toBe('?');
    const c = renderConfirmation('id', '042917', 'BPBD Sumedang', 30);
    expect(c).toContain('042917');
    expect(c).toContain('BERHENTI');
    expect(gsm7Length(c)!).toBeLessThanOrEqual(SMS_SEPTETS);
  });
});
