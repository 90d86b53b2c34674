/**
 * Scenario tests (issue 4): simulator data through the real ingest path into the real engine.
 * Each scenario file in simulators/scenarios/ is turned into the readings a gateway would send
 * (scenario-readings.ts); rules are the kinds the default Sumedang rule set uses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '@kentongan/firmware-protocol';
import { scenarioReadings } from './scenario-readings.ts';
import { playLive, scenarioRig, type ScenarioRig } from './scenario-rig.ts';

const T0 = Date.parse('2026-01-09T00:00:00.000Z');
const H = 3_600_000;
let rig: ScenarioRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const place = {
  areas: [{ id: 'jatinangor', name: 'Kecamatan Jatinangor' }],
  sites: [{ id: 'pos-cikeruh', name: 'Pos Duga Air Cikeruh', areaId: 'jatinangor', lat: -6.93, lon: 107.77 }],
  sensors: [
    { id: 'ckr-wl-01', siteId: 'pos-cikeruh', type: 'water_level' },
    { id: 'ckr-rg-01', siteId: 'pos-cikeruh', type: 'rain' },
  ],
};
const stage = {
  id: 'cikeruh-wl',
  kind: 'threshold' as const,
  hazard: 'flood' as const,
  sensorId: 'ckr-wl-01',
  quantity: 'water_level' as const,
  levels: { Waspada: { raise: 60, clear: 55 }, Siaga: { raise: 160, clear: 150 }, Awas: { raise: 210, clear: 200 } },
  confirmReadings: 2,
  clearReadings: 3,
};
const summary = (r: ScenarioRig) => r.changes.filter((c) => c.alert.ruleId === 'cikeruh-wl').map((c) => `${c.change}:${c.to}`);

describe('a gateway offline for hours whose backlog arrives at once', () => {
  it('evaluates the backlog in event-time order, labels it late, never re-fires, and ignores the resend', async () => {
    const { readings } = await scenarioReadings('banjir-cikeruh', T0);
    const live1 = readings.filter((r) => Date.parse(r.ts) < T0 + 3 * H);
    const backlog = readings.filter((r) => Date.parse(r.ts) >= T0 + 3 * H && Date.parse(r.ts) < T0 + 8 * H);
    const live2 = readings.filter((r) => Date.parse(r.ts) >= T0 + 8 * H);
    const deadman = { id: 'ckr-wl-offline', kind: 'deadman' as const, sensorId: 'ckr-wl-01', timeoutMs: 30 * 60_000 };
    rig = scenarioRig({ ...place, rules: [stage, deadman] }, T0);
    playLive(rig, live1);
    expect(summary(rig)).toEqual(['opened:Waspada']);
    const before = rig.changes.length;

    // Five hours of uplink outage: the deadman tells the technicians (never the residents).
    rig.clock.set(T0 + 8 * H + 60_000);
    rig.engine.tick();
    const offline = rig.changes.filter((c) => c.alert.ruleId === 'ckr-wl-offline');
    expect(offline.map((c) => `${c.change}:${c.audience}`)).toEqual(['opened:technician']);
    // Then the gateway replays its disk queue, oldest first. Its first part ends at 5 h: at 8 h the
    // sensor's newest reading is still 3 h old, so old data must not make it look healthy.
    const half = backlog.filter((r) => Date.parse(r.ts) < T0 + 5 * H);
    rig.send(half);
    expect(rig.engine.listAlerts({ state: 'active' }).map((a) => a.ruleId).sort()).toEqual(['cikeruh-wl', 'ckr-wl-offline']);
    rig.send(backlog.slice(half.length));
    expect(rig.changes.filter((c) => c.alert.ruleId === 'ckr-wl-offline').map((c) => c.change)).toEqual(['opened', 'resolved']);
    const fromBacklog = rig.changes.slice(before).filter((c) => c.alert.ruleId === 'cikeruh-wl');
    expect(fromBacklog.map((c) => `${c.change}:${c.to}`)).toEqual(['escalated:Siaga', 'escalated:Awas', 'deescalated:Siaga', 'deescalated:Waspada']);
    for (const c of fromBacklog) {
      const delay = T0 + 8 * H + 60_000 - Date.parse(c.alert.evidence.ts);
      expect(c.lateByMs).toBe(delay);
      expect(c.lateNotice!.id).toBe(`terdeteksi terlambat, data tertunda ${Math.round(delay / 60_000)} menit`);
    }
    // Event-time order: each change's evidence is later than the one before.
    const times = fromBacklog.map((c) => Date.parse(c.alert.evidence.ts));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // The gateway did not see our acks and sends the whole backlog again: duplicates, no change.
    const changesBefore = rig.changes.length;
    rig.send(backlog);
    expect(rig.changes.length).toBe(changesBefore);
    expect(rig.acks.slice(-Math.ceil(backlog.length / 500)).every((a) => a.stored === 0)).toBe(true);

    playLive(rig, live2);
    expect(summary(rig)).toEqual(['opened:Waspada', 'escalated:Siaga', 'escalated:Awas', 'deescalated:Siaga', 'deescalated:Waspada', 'resolved:Normal']);
    expect(rig.engine.listAlerts().filter((a) => a.ruleId === 'cikeruh-wl')).toHaveLength(1);
    expect(rig.changes.at(-1)!.lateByMs).toBe(null);
  });

  it('gives the same alerts as the same data delivered live', async () => {
    const { readings } = await scenarioReadings('banjir-cikeruh', T0);
    rig = scenarioRig({ ...place, rules: [stage] }, T0);
    playLive(rig, readings);
    // Live, nobody acknowledges: each Siaga/Awas level reached also reminds on-call staff once.
    expect(summary(rig)).toEqual([
      'opened:Waspada', 'escalated:Siaga', 'unacknowledged:Siaga', 'escalated:Awas', 'unacknowledged:Awas',
      'deescalated:Siaga', 'unacknowledged:Siaga', 'deescalated:Waspada', 'resolved:Normal',
    ]);
    expect(rig.changes.every((c) => c.lateByMs === null)).toBe(true);
  });
});

const at = (c: { alert: { evidence: { ts: string } } }) => Date.parse(c.alert.evidence.ts);
const byRule = (r: ScenarioRig, ruleId: string) => r.changes.filter((c) => c.alert.ruleId === ruleId && c.change !== 'unacknowledged');
const levels = (r: ScenarioRig, ruleId: string) => byRule(r, ruleId).map((c) => `${c.change}:${c.to}`);

function site(id: string, areaId: string, sensors: [string, string][]) {
  return {
    areas: [{ id: areaId, name: `Kecamatan ${areaId}` }],
    sites: [{ id, name: `Lokasi ${id}`, areaId, lat: -6.9, lon: 107.8 }],
    sensors: sensors.map(([sid, type]) => ({ id: sid, siteId: id, type })),
  };
}
const stageRule = (id: string, sensorId: string) => ({ ...stage, id, sensorId });
const riseRule = (id: string, sensorId: string) => ({
  id,
  kind: 'rate-of-change' as const,
  hazard: 'flood' as const,
  sensorId,
  quantity: 'water_level' as const,
  windowMs: H,
  per: 'hour' as const,
  // DOMAIN: >= 30 cm/h raises one level (proposed; observed rises 37-60 cm/h).
  levels: { Waspada: { raise: 30, clear: 20 }, Siaga: { raise: 60, clear: 45 }, Awas: { raise: 100, clear: 80 } },
  confirmReadings: 2,
  clearReadings: 3,
});
const rain1h = (id: string, sensorId: string) => ({
  id,
  kind: 'accumulation' as const,
  hazard: 'flood' as const,
  sensorId,
  windowMs: H,
  // BMKG hourly classes; KEP.009/2010: >= 20 mm in 1 h is extreme weather.
  levels: { Waspada: { raise: 10, clear: 8 }, Siaga: { raise: 20, clear: 16 } },
  confirmReadings: 1,
  clearReadings: 3,
});

describe('flash flood (banjir-bandang-citengah)', () => {
  it('the rise rule warns before the stage reaches Siaga; the stage reaches Awas; rain reaches Siaga', async () => {
    const { readings } = await scenarioReadings('banjir-bandang-citengah', T0);
    rig = scenarioRig({ ...site('citengah', 'sumedang-selatan', [['ctg-wl-01', 'water_level'], ['ctg-rg-01', 'rain']]), rules: [stageRule('ctg-stage', 'ctg-wl-01'), riseRule('ctg-rise', 'ctg-wl-01'), rain1h('ctg-rain-1h', 'ctg-rg-01')] }, T0);
    playLive(rig, readings);
    const stageSiaga = byRule(rig, 'ctg-stage').find((c) => c.to === 'Siaga')!;
    const riseFirst = byRule(rig, 'ctg-rise')[0]!;
    expect(at(riseFirst)).toBeLessThan(at(stageSiaga));
    expect(byRule(rig, 'ctg-stage').map((c) => c.alert.maxLevel).at(-1)).toBe('Awas');
    expect(byRule(rig, 'ctg-rise').some((c) => c.to === 'Awas')).toBe(true);
    expect(levels(rig, 'ctg-rain-1h').slice(0, 2)).toEqual(['opened:Waspada', 'escalated:Siaga']);
    // Everything is over by the end of the scenario: every alert resolved by its rule.
    expect(rig.engine.listAlerts({ state: 'active' })).toEqual([]);
    expect(rig.changes.every((c) => c.audience === 'public' && c.lateByMs === null)).toBe(true);
  });
});

describe('slow flood (banjir-lambat-cimanuk)', () => {
  it('reaches Siaga without a rise alert and without flapping in the noise, then clears one level at a time', async () => {
    const { readings } = await scenarioReadings('banjir-lambat-cimanuk', T0);
    rig = scenarioRig({ ...site('cimanuk', 'ujungjaya', [['cmk-wl-01', 'water_level']]), rules: [stageRule('cmk-stage', 'cmk-wl-01'), riseRule('cmk-rise', 'cmk-wl-01')] }, T0);
    playLive(rig, readings);
    expect(levels(rig, 'cmk-stage')).toEqual(['opened:Waspada', 'escalated:Siaga', 'deescalated:Waspada', 'resolved:Normal']);
    expect(byRule(rig, 'cmk-rise')).toEqual([]);
  });
});

describe('creeping slope that accelerates (longsor-merayap-cimanggung)', () => {
  it('creep alone raises nothing; acceleration raises movement alerts; Awas only when rain and movement agree', async () => {
    const { readings } = await scenarioReadings('longsor-merayap-cimanggung', T0);
    const rules = [
      // BPBD Banjarnegara practice (cumulative extensometer): 50 / 100 / 200 mm.
      { id: 'bjk-move', kind: 'threshold' as const, hazard: 'landslide' as const, sensorId: 'bjk-ext-01', quantity: 'displacement' as const, levels: { Waspada: { raise: 50, clear: 45 }, Siaga: { raise: 100, clear: 95 }, Awas: { raise: 200, clear: 195 } }, confirmReadings: 2, clearReadings: 3 },
      { id: 'bjk-speed', kind: 'rate-of-change' as const, hazard: 'landslide' as const, sensorId: 'bjk-ext-01', quantity: 'displacement' as const, windowMs: 6 * H, per: 'hour' as const, levels: { Waspada: { raise: 2, clear: 1 }, Siaga: { raise: 5, clear: 4 } }, confirmReadings: 2, clearReadings: 3 },
      // Pacitan: 3-day rain >= 40 mm.
      { id: 'bjk-rain-3d', kind: 'accumulation' as const, hazard: 'landslide' as const, sensorId: 'bjk-rg-01', windowMs: 72 * H, levels: { Waspada: { raise: 40, clear: 30 } }, confirmReadings: 1, clearReadings: 3 },
      { id: 'bjk-awas', kind: 'composite' as const, hazard: 'landslide' as const, conditions: [{ ruleId: 'bjk-speed', minLevel: 'Siaga' as const }, { ruleId: 'bjk-rain-3d', minLevel: 'Waspada' as const }], alignMs: 6 * H, level: 'Awas' as const },
    ];
    rig = scenarioRig({ ...site('bojongkondang', 'cimanggung', [['bjk-ext-01', 'extensometer'], ['bjk-rg-01', 'rain']]), rules }, T0);
    playLive(rig, readings);
    const movement = rig.changes.filter((c) => c.alert.ruleId === 'bjk-move' || c.alert.ruleId === 'bjk-speed');
    // Two days of creep (0.2 mm/h, 10 mm) raise nothing.
    expect(movement.length).toBeGreaterThan(0);
    expect(Math.min(...movement.map(at))).toBeGreaterThan(T0 + 48 * H);
    expect(levels(rig, 'bjk-move').slice(0, 3)).toEqual(['opened:Waspada', 'escalated:Siaga', 'escalated:Awas']);
    const awas = byRule(rig, 'bjk-awas');
    expect(awas[0]).toMatchObject({ change: 'opened', to: 'Awas' });
    // Rain alone had been at Waspada for a long time before: Awas waited for the ground to move.
    expect(at(byRule(rig, 'bjk-rain-3d')[0]!)).toBeLessThan(at(awas[0]!) - 24 * H);
    expect(at(awas[0]!)).toBeGreaterThanOrEqual(at(byRule(rig, 'bjk-speed').find((c) => c.to === 'Siaga')!));
  });
});

describe('rain with a stuck rain gauge (hujan-penakar-macet)', () => {
  it('the working gauge warns the public; the stuck one raises a technician alert only', async () => {
    const { readings } = await scenarioReadings('hujan-penakar-macet', T0);
    const rules = [
      rain1h('jtn-rain-1h', 'jtn-rg-01'),
      // Stuck: the same non-zero amount 30 times in a row over at least an hour (0 repeats when dry).
      { id: 'jtn-rg-02-stuck', kind: 'flatline' as const, sensorId: 'jtn-rg-02', quantity: 'rain' as const, minReadings: 30, minDurationMs: H, ignoreValues: [0] },
      { id: 'jtn-rg-01-stuck', kind: 'flatline' as const, sensorId: 'jtn-rg-01', quantity: 'rain' as const, minReadings: 30, minDurationMs: H, ignoreValues: [0] },
    ];
    rig = scenarioRig({ ...site('jatinangor-1', 'jatinangor', [['jtn-rg-01', 'rain'], ['jtn-rg-02', 'rain']]), rules }, T0);
    playLive(rig, readings);
    expect(levels(rig, 'jtn-rain-1h').slice(0, 2)).toEqual(['opened:Waspada', 'escalated:Siaga']);
    expect(byRule(rig, 'jtn-rain-1h').every((c) => c.audience === 'public')).toBe(true);
    const stuck = byRule(rig, 'jtn-rg-02-stuck');
    expect(stuck[0]).toMatchObject({ change: 'opened', audience: 'technician' });
    expect(byRule(rig, 'jtn-rg-01-stuck')).toEqual([]);
    // A fault is not a hazard: the area level follows the working gauge only.
    expect(rig.engine.listAlerts({ state: 'active' }).filter((a) => a.audience === 'technician')).toHaveLength(1);
  });
});

export type { Reading };
