/**
 * Scenario tests: the default Sumedang rule set over readings built from the simulator scenario
 * files (simulators/scenarios/*.json): piecewise-linear curves, tipping buckets turned into
 * rain amounts per interval as the gateway does, deterministic noise.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDetector, ruleSetSchema, type Quantity, type RuleChange, type RuleReading } from '../../src/index.ts';

const root = new URL('../../../', import.meta.url);
const RULES = ruleSetSchema.parse(JSON.parse(readFileSync(new URL('server/config/rules/sumedang-default.json', root), 'utf8'))).rules;
const T0 = Date.UTC(2026, 0, 9, 0, 0, 0);

type Points = [number, number][];
interface Channel {
  kind: 'curve' | 'tipping-bucket';
  points?: Points;
  noise?: number;
  mmPerTip?: number;
  rateMmPerH?: Points;
}
interface Scenario {
  durationS: number;
  tickS: number;
  sensors: { id: string; channels: Record<string, Channel> }[];
}

const at = (pts: Points, s: number): number => {
  for (let i = 1; i < pts.length; i++) {
    const [s0, v0] = pts[i - 1]!;
    const [s1, v1] = pts[i]!;
    if (s <= s1) return v0 + ((v1 - v0) * (s - s0)) / Math.max(1, s1 - s0);
  }
  return pts.at(-1)![1];
};
const QUANTITY: Record<string, Quantity> = { level_cm: 'water_level', displacement_mm: 'displacement', rain_mm: 'rain', tips: 'rain' };

function readingsOf(name: string): RuleReading[] {
  const sc = JSON.parse(readFileSync(new URL(`simulators/scenarios/${name}.json`, root), 'utf8')) as Scenario;
  const out: RuleReading[] = [];
  const tips = new Map<string, number>();
  for (let s = 0; s <= sc.durationS; s += sc.tickS) {
    for (const sensor of sc.sensors) {
      for (const [ch, c] of Object.entries(sc.sensors.find((x) => x === sensor)!.channels)) {
        const q = QUANTITY[ch];
        if (!q) continue;
        let value: number;
        if (c.kind === 'tipping-bucket') {
          // Whole tips only, the remainder carried: what a tipping bucket and the gateway report.
          const k = `${sensor.id}`;
          const due = (tips.get(k) ?? 0) + (at(c.rateMmPerH!, s) * sc.tickS) / 3600 / c.mmPerTip!;
          const whole = Math.floor(due);
          tips.set(k, due - whole);
          value = Math.round(whole * c.mmPerTip! * 1000) / 1000;
        } else {
          const noise = (c.noise ?? 0) * Math.sin(s * 12.9898 + sensor.id.length);
          value = Math.round((at(c.points!, s) + noise) * 10) / 10;
        }
        out.push({ sensorId: sensor.id, quantity: q, value, unit: 'x', tsMs: T0 + s * 1000, quality: 'good' });
      }
    }
  }
  return out;
}

/** Live delivery: one batch per tick, a detector tick after each. */
function live(readings: RuleReading[], tickMs: number): RuleChange[] {
  const d = createDetector(RULES);
  const out: RuleChange[] = [];
  const byTick = new Map<number, RuleReading[]>();
  for (const r of readings) byTick.set(r.tsMs, [...(byTick.get(r.tsMs) ?? []), r]);
  for (const [ts, batch] of byTick) {
    out.push(...d.apply(batch));
    if ((ts - T0) % tickMs === 0) out.push(...d.tick(ts));
  }
  return out;
}

const maxLevel = (cs: RuleChange[], id: string) =>
  cs.filter((c) => c.ruleId === id).reduce((m, c) => (['Normal', 'Waspada', 'Siaga', 'Awas'].indexOf(c.to) > ['Normal', 'Waspada', 'Siaga', 'Awas'].indexOf(m) ? c.to : m), 'Normal');
const lastLevel = (cs: RuleChange[], id: string) => cs.filter((c) => c.ruleId === id).at(-1)?.to ?? 'Normal';
/** Technician alerts about the scenario's own sensors (sensors of other scenarios are silent, so offline). */
const technicianRules = (cs: RuleChange[], prefix: string) => [
  ...new Set(cs.filter((c) => c.audience === 'technician' && c.ruleId.startsWith(prefix)).map((c) => c.ruleId)),
];

describe('default rule set over simulator scenarios', () => {
  it('flash flood at Citengah: Awas fast, rise alert, no technician alerts, recedes', () => {
    const cs = live(readingsOf('banjir-bandang-citengah'), 600_000);
    expect(maxLevel(cs, 'ctg-wl-01-muka-air')).toBe('Awas');
    expect(maxLevel(cs, 'ctg-wl-01-kenaikan')).toBe('Waspada');
    expect(maxLevel(cs, 'ctg-rg-01-hujan-1j')).toBe('Siaga');
    expect(technicianRules(cs, 'ctg-')).toEqual([]);
    const awas = cs.find((c) => c.ruleId === 'ctg-wl-01-muka-air' && c.to === 'Awas')!;
    expect((awas.atMs - T0) / 1000).toBeLessThan(6000); // stage passes 210 cm at ~5660 s
    expect(lastLevel(cs, 'ctg-wl-01-muka-air')).toBe('Normal');
  });

  it('slow flood on the Cimanuk: Siaga, never Awas, no rise alert, back to Normal', () => {
    const cs = live(readingsOf('banjir-lambat-cimanuk'), 600_000);
    expect(maxLevel(cs, 'cmk-wl-01-muka-air')).toBe('Siaga');
    expect(cs.filter((c) => c.ruleId === 'cmk-wl-01-kenaikan')).toEqual([]);
    expect(lastLevel(cs, 'cmk-wl-01-muka-air')).toBe('Normal');
    // Each step down is its own change: Siaga -> Waspada -> Normal.
    expect(cs.filter((c) => c.ruleId === 'cmk-wl-01-muka-air' && c.kind === 'deescalated').map((c) => c.to)).toEqual(['Waspada', 'Normal']);
  });

  it('creeping slope at Cimanggung: movement escalates to Awas, landslide Awas only with rain', () => {
    const cs = live(readingsOf('longsor-merayap-cimanggung'), 600_000);
    expect(maxLevel(cs, 'bjk-ext-01-geser')).toBe('Awas');
    const awas = cs.find((c) => c.ruleId === 'bjk-longsor-awas' && c.to === 'Awas');
    const rainSiaga = cs.find((c) => c.ruleId === 'bjk-rg-01-hujan-24j' && c.to === 'Siaga');
    const moveSiaga = cs.find((c) => c.ruleId === 'bjk-ext-01-laju' && c.to === 'Siaga')!;
    const cumulativeAwas = cs.find((c) => c.ruleId === 'bjk-ext-01-geser' && c.to === 'Awas')!;
    // Awas comes when rain and movement agree, not before either, and hours before 200 mm of movement.
    expect(awas).toBeDefined();
    expect(awas!.atMs).toBe(Math.max(rainSiaga!.atMs, moveSiaga.atMs));
    expect(cumulativeAwas.atMs - awas!.atMs).toBeGreaterThan(3 * 3_600_000);
    expect(technicianRules(cs, 'bjk-')).toEqual([]);
  });

  it('rain with a stuck gauge: a technician alert for the stuck one, the real gauge warns', () => {
    const cs = live(readingsOf('hujan-penakar-macet'), 600_000);
    expect(technicianRules(cs, 'jtn-')).toEqual(['jtn-rg-02-macet']);
    expect(maxLevel(cs, 'jtn-rg-01-hujan-1j')).toBe('Siaga');
    expect(cs.some((c) => c.ruleId === 'jtn-rg-01-macet')).toBe(false);
  });

  it('gateway offline for hours: deadman raised, backlog evaluated in time order, no hazard change lost or doubled', () => {
    const readings = readingsOf('banjir-cikeruh');
    const reference = live(readings, 600_000).filter((c) => c.audience === 'public');
    const d = createDetector(RULES);
    const out: RuleChange[] = [];
    const outageFrom = T0 + 4 * 3_600_000;
    const outageTo = T0 + 8 * 3_600_000;
    out.push(...d.apply(readings.filter((r) => r.tsMs < outageFrom)));
    for (let t = outageFrom; t < outageTo; t += 600_000) out.push(...d.tick(t));
    expect(d.levels()['ckr-wl-01-mati']).toBe('Waspada');
    // The whole backlog at once, newest first, then a replay of it: same hazard changes as live.
    const backlog = readings.filter((r) => r.tsMs >= outageFrom && r.tsMs < outageTo).reverse();
    out.push(...d.apply(backlog), ...d.apply(backlog));
    expect(d.levels()['ckr-wl-01-mati']).toBe('Normal');
    out.push(...d.apply(readings.filter((r) => r.tsMs >= outageTo)));
    expect(out.filter((c) => c.audience === 'public').map((c) => `${c.ruleId}:${c.to}@${c.atMs}`)).toEqual(
      reference.map((c) => `${c.ruleId}:${c.to}@${c.atMs}`),
    );
  });
});
