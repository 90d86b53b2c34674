import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomFeed, feedEntries } from '../../src/cap/atom.ts';
import { CapLog, type CapRecord } from '../../src/cap/cap-log.ts';
import { capXml } from '../../src/cap/cap-xml.ts';
import { capDateTime } from '../../src/cap/mapping.ts';
import { samplePayload } from '../notify/fixtures.ts';
import { openDb, tempDir } from '../alerts/helpers.ts';
import { xmllint } from './xmllint.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
let log: CapLog;
beforeEach(() => {
  tmp = tempDir();
  db = openDb(tmp.dbPath);
  log = new CapLog(db);
});
afterEach(() => {
  db.close();
  tmp.cleanup();
});

const OPTS = { senderId: 'kentongan@bpbd-sumedang.invalid', contact: 'Pusdalops BPBD Sumedang' };
const HOSTILE = `Pos <Cikeruh> & "Sons" ]]> <!-- \u0001\u0007 \uD800 --> </alert><script>'x'</script>`;

/** One alert's life: opened Siaga, escalated Awas, resolved. */
function lifecycle(hazard: 'flood' | 'landslide', siteName = 'Pos Cikeruh', areaName = 'Jatinangor'): CapRecord[] {
  const alert = { ...samplePayload('a-1').alert, hazard };
  const steps = [
    { change: 'opened', from: null, to: 'Siaga', at: '2026-11-28T07:05:01.000Z' },
    { change: 'escalated', from: 'Siaga', to: 'Awas', at: '2026-11-28T07:35:01.000Z' },
    { change: 'resolved', from: 'Awas', to: 'Normal', at: '2026-11-28T11:00:00.000Z' },
  ] as const;
  for (const s of steps) {
    log.record({ alertId: 'a-1', sent: s.at, change: s.change, from: s.from, to: s.to, alert: { ...alert, level: s.to }, siteName, areaName, quantity: 'water_level', sender: 'BPBD Sumedang' });
  }
  return log.forAlert('a-1');
}

describe('CAP 1.2 output', () => {
  it('Alert, Update and Cancel validate against the OASIS CAP 1.2 schema, with references', () => {
    const recs = lifecycle('flood');
    expect(recs.map((r) => r.msgType)).toEqual(['Alert', 'Update', 'Cancel']);
    const geo = { circle: { lat: -6.9321, lon: 107.7654, radiusKm: 1.5 } };
    recs.forEach((rec, i) => {
      const xml = capXml(rec, recs.slice(0, i), geo, OPTS);
      const res = xmllint(xml);
      expect(res.ok, res.output + xml).toBe(true);
      expect(xml).toContain('<language>id-ID</language>');
      expect(xml).toContain('<language>en-US</language>');
      expect(xml).toContain('<category>Met</category>');
      expect(xml).toContain('<circle>-6.9321,107.7654 1.5</circle>');
    });
    const update = capXml(recs[1]!, recs.slice(0, 1), geo, OPTS);
    expect(update).toContain(`<references>kentongan@bpbd-sumedang.invalid,${recs[0]!.identifier},2026-11-28T14:05:01+07:00</references>`);
    expect(update).toMatch(/<urgency>Immediate<\/urgency>\s*<severity>Extreme<\/severity>\s*<certainty>Observed<\/certainty>/);
    expect(update).toContain('<responseType>Evacuate</responseType>');
    const cancel = capXml(recs[2]!, recs.slice(0, 2), geo, OPTS);
    expect(cancel).toContain('<responseType>AllClear</responseType>');
    expect(cancel.match(/kentongan@bpbd-sumedang\.invalid,/g)).toHaveLength(2);
  });

  it('a landslide with a polygon (closed automatically) and hostile names still validates', () => {
    const recs = lifecycle('landslide', HOSTILE, `Desa ${HOSTILE}`);
    const polygon = [[-6.95, 107.8], [-6.95, 107.81], [-6.96, 107.81]] as const;
    const xml = capXml(recs[0]!, [], { polygon }, { ...OPTS, web: 'http://127.0.0.1:8080/api/v1/cap/messages/x.xml?a=1&b=2' });
    const res = xmllint(xml);
    expect(res.ok, res.output + xml).toBe(true);
    expect(xml).toContain('<category>Geo</category>');
    expect(xml).toContain('<polygon>-6.95,107.8 -6.95,107.81 -6.96,107.81 -6.95,107.8</polygon>');
    expect(xml).toContain('&lt;Cikeruh&gt; &amp; &quot;Sons&quot;');
    expect(xml).not.toContain('<script>');
  });

  it('xmllint rejects broken CAP (the validator really checks)', () => {
    const recs = lifecycle('flood');
    const good = capXml(recs[0]!, [], { circle: { lat: -6.9, lon: 107.7, radiusKm: 1 } }, OPTS);
    expect(xmllint(good).ok).toBe(true);
    const broken: Record<string, string> = {
      'Z time': good.replace(/<sent>[^<]+<\/sent>/, '<sent>2026-11-28T07:05:01Z</sent>'),
      'fractional seconds': good.replace(/<sent>[^<]+<\/sent>/, '<sent>2026-11-28T14:05:01.5+07:00</sent>'),
      'bad msgType': good.replace('<msgType>Alert</msgType>', '<msgType>Warning</msgType>'),
      'bad category': good.replace('<category>Met</category>', '<category>Flood</category>'),
      'missing scope': good.replace('<scope>Public</scope>', ''),
      'wrong order': good.replace(/(<status>Actual<\/status>)\s*(<msgType>Alert<\/msgType>)/, '$2$1'),
      'wrong namespace': good.replace('urn:oasis:names:tc:emergency:cap:1.2', 'urn:oasis:names:tc:emergency:cap:1.1'),
      'not well-formed': good.replace('</alert>', ''),
    };
    for (const [name, xml] of Object.entries(broken)) expect(xmllint(xml).ok, name).toBe(false);
  });

  it('CAP times are WIB with an offset, never Z', () => {
    expect(capDateTime('2026-11-28T17:05:01.123Z')).toBe('2026-11-29T00:05:01+07:00');
  });
});

describe('Atom feed', () => {
  it('is well-formed with the required elements, links each CAP message and escapes names', () => {
    lifecycle('flood', HOSTILE, HOSTILE);
    const alert2 = { ...samplePayload('a-2').alert, hazard: 'landslide' as const };
    log.record({ alertId: 'a-2', sent: '2026-11-28T08:00:00.000Z', change: 'opened', from: null, to: 'Awas', alert: alert2, siteName: 'Lereng', areaName: 'Cimanggung', sender: 'BPBD Sumedang' });
    const now = new Date('2026-11-28T12:00:00.000Z');
    const entries = feedEntries(log.latestPerAlert(100), now);
    expect(entries.map((e) => e.msgType)).toEqual(['Alert', 'Cancel']);
    const xml = atomFeed(entries, { baseUrl: 'http://127.0.0.1:8080', author: 'BPBD <Sumedang>', now });
    const res = xmllint(xml, null);
    expect(res.ok, res.output + xml).toBe(true);
    expect(xml).toMatch(/<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom"/);
    for (const tag of ['id', 'title', 'updated']) expect(xml.match(new RegExp(`<${tag}>`, 'g'))!.length).toBe(3);
    expect(xml).toContain('<link rel="self" type="application/atom+xml" href="http://127.0.0.1:8080/feeds/alerts.atom"/>');
    expect(xml).toContain(`href="http://127.0.0.1:8080/api/v1/cap/messages/kentongan-a-2-1.xml"`);
    expect(xml).toContain('type="application/cap+xml"');
    // A day later the all-clear has left the feed; the active alert stays.
    expect(feedEntries(log.latestPerAlert(100), new Date('2026-11-29T12:00:00.000Z')).map((e) => e.alertId)).toEqual(['a-2']);
  });
});
