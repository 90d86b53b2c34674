import { describe, expect, it } from 'vitest';
import { createDetector } from '../../src/index.ts';
import { HOUR, MIN, reading, rule, series } from './helpers.ts';

describe('sustained-intensity', () => {
  const r = rule({ id: 'si', kind: 'sustained-intensity', hazard: 'flood', sensorId: 'g', minPerHour: 5, minDurationMs: 5 * HOUR });
  const perMinute = (mmPerHour: number, minutes: number, start = 0) => series('g', 'rain', Array.from({ length: minutes }, () => mmPerHour / 60), MIN, start);

  it('raises after 5 h of >= 5 mm/h, not after 4 h', () => {
    const four = createDetector([r]);
    expect(four.apply([...perMinute(6, 240), ...perMinute(0, 120, 240 * MIN)])).toEqual([]);
    const five = createDetector([r]);
    const changes = five.apply(perMinute(6, 300));
    expect(changes.map((c) => [c.to, c.hazard])).toEqual([['Waspada', 'flood']]);
    expect(changes[0]!.atMs).toBeGreaterThanOrEqual(4 * HOUR);
    expect(changes[0]!.atMs).toBeLessThan(5 * HOUR);
  });

  it('a dry hour breaks the run and clears the level', () => {
    const d = createDetector([r]);
    d.apply(perMinute(6, 300));
    expect(d.levels()['si']).toBe('Waspada');
    expect(d.apply(perMinute(0, 130, 300 * MIN)).map((c) => c.to)).toEqual(['Normal']);
  });
});

describe('intensity-duration (Caine 1980)', () => {
  const caine = rule({ id: 'c', kind: 'intensity-duration', hazard: 'landslide', sensorId: 'g', a: 14.82, b: -0.39 });

  it('stays quiet under the curve and raises above it (about 44 mm in 6 h)', () => {
    const under = createDetector([caine]);
    expect(under.apply(series('g', 'rain', Array.from({ length: 360 }, () => 35 / 360)))).toEqual([]);
    const over = createDetector([caine]);
    const changes = over.apply(series('g', 'rain', Array.from({ length: 360 }, () => 60 / 360)));
    expect(changes.map((c) => c.to)).toEqual(['Siaga']);
    expect(changes[0]!.evidence.unit).toBe('mm/h');
  });

  it('a dry gap of 24 h ends the event', () => {
    const d = createDetector([caine]);
    d.apply(series('g', 'rain', Array.from({ length: 60 }, () => 10 / 60)));
    // 14 mm in 1 h is under 14.82; with the old event forgotten, 14 mm a day later stays under.
    expect(d.apply(series('g', 'rain', Array.from({ length: 60 }, () => 14 / 60), MIN, 26 * HOUR))).toEqual([]);
    // The same 14 mm right after the first hour joins the event: 24 mm in 2 h is above 11.3 mm/h.
    const joined = createDetector([caine]);
    joined.apply(series('g', 'rain', Array.from({ length: 60 }, () => 10 / 60)));
    expect(joined.apply(series('g', 'rain', Array.from({ length: 60 }, () => 14 / 60), MIN, HOUR)).map((c) => c.to)).toEqual(['Siaga']);
  });
});

describe('composite', () => {
  const rain = rule({ id: 'rain', kind: 'threshold', hazard: 'landslide', sensorId: 'g', quantity: 'rain', levels: { Siaga: { raise: 10, clear: 5 } }, confirmReadings: 1, clearReadings: 1, announce: false });
  const move = rule({ id: 'move', kind: 'threshold', hazard: 'landslide', sensorId: 'e', quantity: 'displacement', levels: { Siaga: { raise: 100, clear: 90 } }, confirmReadings: 1, clearReadings: 1 });
  const both = rule({ id: 'both', kind: 'composite', hazard: 'landslide', level: 'Awas', alignMs: HOUR, conditions: [{ ruleId: 'rain', minLevel: 'Siaga' }, { ruleId: 'move', minLevel: 'Siaga' }] });

  it('raises Awas only when both agree within the alignment window', () => {
    const d = createDetector([rain, move, both]);
    const a = d.apply([reading('g', 'rain', 12, 0), reading('g', 'rain', 0, 10 * MIN)]);
    expect(a).toEqual([]); // announce:false hides the rain rule's own changes
    expect(d.levels()['rain']).toBe('Normal');
    const b = d.apply([reading('e', 'displacement', 120, 50 * MIN)]);
    expect(b.map((c) => [c.ruleId, c.to])).toEqual([['move', 'Siaga'], ['both', 'Awas']]);
    expect(b[1]!.evidence.description.en).toContain('rain ≥ Siaga ✓');
  });

  it('does not raise when the other condition is older than the alignment', () => {
    const d = createDetector([rain, move, both]);
    d.apply([reading('g', 'rain', 12, 0), reading('g', 'rain', 0, 10 * MIN)]);
    expect(d.apply([reading('e', 'displacement', 120, 2 * HOUR)]).map((c) => c.ruleId)).toEqual(['move']);
  });

  it('falls back when the alignment window expires (tick)', () => {
    const d = createDetector([rain, move, both]);
    d.apply([reading('e', 'displacement', 120, 0), reading('g', 'rain', 12, MIN), reading('g', 'rain', 0, 2 * MIN)]);
    expect(d.levels()['both']).toBe('Awas');
    expect(d.tick(30 * MIN)).toEqual([]);
    expect(d.tick(2 * HOUR).map((c) => [c.ruleId, c.to])).toEqual([['both', 'Normal']]);
  });

  it('ignores composites with unknown rules or cycles instead of throwing', () => {
    const bad1 = rule({ id: 'x', kind: 'composite', hazard: 'flood', level: 'Awas', conditions: [{ ruleId: 'y', minLevel: 'Siaga' }] });
    const bad2 = rule({ id: 'y', kind: 'composite', hazard: 'flood', level: 'Awas', conditions: [{ ruleId: 'x', minLevel: 'Siaga' }] });
    const lost = rule({ id: 'z', kind: 'composite', hazard: 'flood', level: 'Awas', conditions: [{ ruleId: 'nope', minLevel: 'Siaga' }] });
    const d = createDetector([bad1, bad2, lost]);
    expect(d.restore.ignoredRuleIds.sort()).toEqual(['x', 'y', 'z']);
    expect(d.tick(1000)).toEqual([]);
  });
});

describe('health rules (technician audience)', () => {
  it('deadman raises on tick after the timeout and late backlog does not clear it', () => {
    const d = createDetector([rule({ id: 'dm', kind: 'deadman', sensorId: 's', timeoutMs: 30 * MIN })]);
    d.apply([reading('s', 'water_level', 1, 0)]);
    expect(d.tick(20 * MIN)).toEqual([]);
    const raised = d.tick(40 * MIN);
    expect(raised.map((c) => [c.to, c.audience, c.hazard])).toEqual([['Waspada', 'technician', 'sensor-health']]);
    // Backlog from the outage arrives: still silent relative to now (3 h).
    d.tick(3 * HOUR);
    expect(d.apply(series('s', 'water_level', [1, 1, 1], MIN, 10 * MIN))).toEqual([]);
    expect(d.levels()['dm']).toBe('Waspada');
    // A fresh reading clears it.
    expect(d.apply([reading('s', 'water_level', 1, 3 * HOUR - MIN)]).map((c) => c.to)).toEqual(['Normal']);
  });

  it('deadman fires for a sensor never heard from, counted from the first tick', () => {
    const d = createDetector([rule({ id: 'dm', kind: 'deadman', sensorId: 's', timeoutMs: 30 * MIN })]);
    expect(d.tick(1_000_000)).toEqual([]);
    expect(d.tick(1_000_000 + 30 * MIN)).toHaveLength(1);
  });

  it('flatline catches a stuck rain gauge but not a dry one', () => {
    const r = rule({ id: 'f', kind: 'flatline', sensorId: 'g', quantity: 'rain', minReadings: 30, minDurationMs: HOUR, ignoreValues: [0] });
    const dry = createDetector([r]);
    expect(dry.apply(series('g', 'rain', Array.from({ length: 100 }, () => 0), 2 * MIN))).toEqual([]);
    const stuck = createDetector([r]);
    const changes = stuck.apply(series('g', 'rain', Array.from({ length: 40 }, () => 0.4), 2 * MIN));
    expect(changes.map((c) => [c.to, c.audience, c.atMs])).toEqual([['Waspada', 'technician', 60 * MIN]]);
    expect(stuck.apply([reading('g', 'rain', 0.2, 100 * MIN)]).map((c) => c.to)).toEqual(['Normal']);
  });

  it('out-of-range counts suspect quality and bounds', () => {
    const d = createDetector([rule({ id: 'o', kind: 'out-of-range', sensorId: 's', quantity: 'water_level', min: 0, max: 1500, confirmReadings: 2, clearReadings: 1 })]);
    expect(d.apply([reading('s', 'water_level', 5, 0, 'suspect')])).toEqual([]);
    expect(d.apply([reading('s', 'water_level', 5000, MIN)]).map((c) => c.to)).toEqual(['Waspada']);
    expect(d.apply([reading('s', 'water_level', 100, 2 * MIN)]).map((c) => c.to)).toEqual(['Normal']);
    expect(d.skips().suspect).toBe(0);
  });

  it('low-battery has hysteresis above the limit', () => {
    const d = createDetector([rule({ id: 'b', kind: 'low-battery', sensorId: 's', belowV: 11.8, clearV: 12.4, confirmReadings: 1, clearReadings: 1 })]);
    expect(d.apply([reading('s', 'battery_voltage', 11.5, 0)]).map((c) => c.to)).toEqual(['Waspada']);
    expect(d.apply([reading('s', 'battery_voltage', 12.1, MIN)])).toEqual([]);
    expect(d.apply([reading('s', 'battery_voltage', 12.5, 2 * MIN)]).map((c) => c.to)).toEqual(['Normal']);
  });

  it('tamper raises on a jump between readings', () => {
    const d = createDetector([rule({ id: 't', kind: 'tamper', sensorId: 'e', quantity: 'tilt_x', maxStep: 5, clearReadings: 2 })]);
    expect(d.apply(series('e', 'tilt_x', [0.1, 0.2, 9, 9, 9])).map((c) => c.to)).toEqual(['Waspada', 'Normal']);
  });
});
