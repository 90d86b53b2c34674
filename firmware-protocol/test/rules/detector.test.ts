import { describe, expect, it } from 'vitest';
import { createDetector, thresholdRuleSchema } from '../../src/index.ts';
import { HOUR, MIN, key, reading, rule, series } from './helpers.ts';

const wl = thresholdRuleSchema.parse({ id: 'wl', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'water_level', levels: { Waspada: { raise: 60, clear: 55 } }, confirmReadings: 2, clearReadings: 2 });
const dm = rule({ id: 'dm', kind: 'deadman', sensorId: 's', timeoutMs: 30 * MIN });

describe('event time', () => {
  it('skips readings behind the watermark (lateness 0) and exact duplicates', () => {
    const d = createDetector([wl]);
    d.apply(series('s', 'water_level', [70, 70], MIN, 10 * MIN));
    expect(d.apply([reading('s', 'water_level', 70, 11 * MIN), reading('s', 'water_level', 99, 5 * MIN)])).toEqual([]);
    expect(d.skips().late).toBe(2);
  });

  it('sorts a backlog delivered in one call by event time', () => {
    const d = createDetector([wl]);
    const backlog = series('s', 'water_level', [70, 70, 10, 10]).reverse();
    expect(d.apply(backlog).map((c) => key(c))).toEqual(['wl:Normal->Waspada@60000', 'wl:Waspada->Normal@180000']);
  });

  it('with a reorder buffer, reorders and evaluates once the watermark passes', () => {
    const d = createDetector([wl], undefined, { reorderMs: 5 * MIN });
    expect(d.apply([reading('s', 'water_level', 70, 0)])).toEqual([]);
    expect(d.apply([reading('s', 'water_level', 70, 2 * MIN)])).toEqual([]);
    expect(d.apply([reading('s', 'water_level', 70, MIN)])).toEqual([]); // late but within 5 min
    expect(d.apply([reading('s', 'water_level', 70, 6 * MIN)]).map(key)).toEqual(['wl:Normal->Waspada@60000']);
    expect(d.apply([reading('s', 'water_level', 70, MIN)])).toEqual([]);
    expect(d.skips().late).toBe(1);
    // A tick flushes readings of a sensor that went quiet.
    d.apply(series('s', 'water_level', [0, 0], MIN, 7 * MIN));
    expect(d.tick(20 * MIN).map(key)).toEqual(['wl:Waspada->Normal@480000']);
  });

  it('with allowed lateness (no buffer), late rain still counts at once and late duplicates do not', () => {
    const acc = rule({ id: 'acc', kind: 'accumulation', hazard: 'flood', sensorId: 'g', windowMs: HOUR, levels: { Waspada: { raise: 10, clear: 8 } }, confirmReadings: 1 });
    const d = createDetector([acc, wl], undefined, { allowedLatenessMs: 10 * MIN });
    // In order: judged at once (no delay).
    expect(d.apply([reading('s', 'water_level', 70, 0), reading('s', 'water_level', 70, MIN)]).map(key)).toEqual(['wl:Normal->Waspada@60000']);
    d.apply([reading('g', 'rain', 3, 0), reading('g', 'rain', 3, 5 * MIN)]);
    // 3 min late: taken into the sum, judged with the next reading; a repeat of it is late.
    expect(d.apply([reading('g', 'rain', 3, 2 * MIN)])).toEqual([]);
    expect(d.apply([reading('g', 'rain', 3, 2 * MIN)])).toEqual([]);
    expect(d.skips().late).toBe(1);
    expect(d.apply([reading('g', 'rain', 1.5, 6 * MIN)]).map(key)).toEqual(['acc:Normal->Waspada@360000']); // 3+3+3+1.5
    // Beyond the lateness: skipped; a late water level is skipped too (the level is about now).
    expect(d.apply([reading('g', 'rain', 50, -20 * MIN), reading('s', 'water_level', 0, 30 * 1000)])).toEqual([]);
    expect(d.skips().late).toBe(3);
    // Snapshot keeps the late-duplicate memory.
    const again = createDetector([acc, wl], JSON.parse(JSON.stringify(d.snapshot())), { allowedLatenessMs: 10 * MIN });
    again.apply([reading('g', 'rain', 3, 2 * MIN)]);
    expect(again.skips().late).toBe(1);
  });

  it('keeps the reorder buffer bounded', () => {
    const d = createDetector([wl], undefined, { reorderMs: 1000 * HOUR, maxBufferPerSensor: 10 });
    d.apply(series('s', 'water_level', Array.from({ length: 100 }, () => 70)));
    const snap = d.snapshot() as { sensors: Record<string, { buf: unknown[] }> };
    expect(snap.sensors['s']!.buf.length).toBeLessThanOrEqual(10);
    expect(d.levels()['wl']).toBe('Waspada');
  });
});

describe('hostile rule sets and ticks', () => {
  it('ignores unknown kinds, duplicates and non-objects instead of throwing', () => {
    const d = createDetector([wl, { ...wl, levels: { Awas: { raise: 1, clear: 0 } } }, { id: 'x', kind: 'magic', hazard: 'flood' }, null] as never[]);
    expect(d.restore.ignoredRuleIds).toEqual(['wl', 'x', 'undefined']);
    expect(Object.keys(d.levels())).toEqual(['wl']);
    expect(d.apply(series('s', 'water_level', [70, 70])).map((c) => c.ruleId)).toEqual(['wl']); // the first wl
  });

  it('counts non-finite ticks as invalid and never moves the clock backwards', () => {
    const d = createDetector([dm]);
    expect(d.tick(Number.NaN)).toEqual([]);
    expect(d.tick(Infinity)).toEqual([]);
    expect(d.skips().invalid).toBe(2);
    d.tick(0);
    expect(d.tick(40 * MIN)).toHaveLength(1);
    expect(d.tick(MIN)).toEqual([]);
    expect(d.levels()['dm']).toBe('Waspada');
  });
});

describe('snapshots', () => {
  it('continues from a snapshot (through JSON) without re-firing', () => {
    const d = createDetector([wl, dm]);
    d.apply(series('s', 'water_level', [70, 70]));
    d.tick(2 * HOUR);
    const again = createDetector([wl, dm], JSON.parse(JSON.stringify(d.snapshot())));
    expect(again.restore).toEqual({ snapshotGiven: true, snapshotValid: true, freshRuleIds: [], ignoredRuleIds: [] });
    expect(again.levels()).toEqual({ wl: 'Waspada', dm: 'Waspada' });
    expect(again.apply([reading('s', 'water_level', 70, 2 * MIN)])).toEqual([]);
    expect(again.tick(3 * HOUR)).toEqual([]);
  });

  it.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'snapshot'],
    ['another version', { v: 99, rules: {}, sensors: {} }],
    ['an array', []],
  ])('starts fresh on a foreign snapshot: %s', (_n, snap) => {
    const d = createDetector([wl, dm], snap);
    expect(d.restore.snapshotValid).toBe(false);
    expect(d.restore.freshRuleIds).toEqual(['wl', 'dm']);
    expect(d.levels()).toEqual({ wl: 'Normal', dm: 'Normal' });
    expect(d.apply(series('s', 'water_level', [70, 70])).map((c) => c.ruleId)).toEqual(['wl']);
  });

  it('starts fresh only the rules whose state is damaged or whose config changed', () => {
    const d = createDetector([wl, dm]);
    d.apply(series('s', 'water_level', [70, 70]));
    const snap = JSON.parse(JSON.stringify(d.snapshot()));
    snap.rules.dm.m.lv = 'Awas';
    const a = createDetector([wl, dm], snap);
    expect(a.restore.freshRuleIds).toEqual(['dm']);
    expect(a.levels()['wl']).toBe('Waspada');
    const changed = rule({ ...wl, levels: { Waspada: { raise: 80, clear: 75 } } });
    const b = createDetector([changed, dm], JSON.parse(JSON.stringify(d.snapshot())));
    expect(b.restore.freshRuleIds).toEqual(['wl']);
    const hostile = JSON.parse(JSON.stringify(d.snapshot()));
    hostile.rules.wl.m.rr = [0, 1e400, 0, 0];
    hostile.sensors.s = { wm: 'x', last: {}, buf: [] };
    const c = createDetector([wl, dm], hostile);
    expect(c.restore.freshRuleIds).toEqual(['wl']);
    expect(() => c.apply(series('s', 'water_level', [70, 70]))).not.toThrow();
  });

  it('a level no longer configured is not restored', () => {
    const three = rule({ ...wl, levels: { Waspada: { raise: 60, clear: 55 }, Siaga: { raise: 100, clear: 90 } } });
    const d = createDetector([three]);
    d.apply(series('s', 'water_level', [120, 120]));
    expect(d.levels()['wl']).toBe('Siaga');
    // Same fingerprint is impossible with other levels, so the rule restarts fresh.
    const e = createDetector([wl], d.snapshot());
    expect(e.levels()['wl']).toBe('Normal');
  });
});
