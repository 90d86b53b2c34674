import { describe, expect, it } from 'vitest';
import { createDetector, thresholdRuleSchema } from '../../src/index.ts';
import { HOUR, MIN, reading, rule, series } from './helpers.ts';

const wl = thresholdRuleSchema.parse({
  id: 'wl',
  kind: 'threshold',
  hazard: 'flood',
  sensorId: 's',
  quantity: 'water_level',
  levels: { Waspada: { raise: 60, clear: 55 }, Siaga: { raise: 160, clear: 150 }, Awas: { raise: 210, clear: 200 } },
  confirmReadings: 2,
  clearReadings: 3,
});

describe('threshold', () => {
  it('escalates after confirmation, straight to the highest confirmed level', () => {
    const d = createDetector([wl]);
    const changes = d.apply(series('s', 'water_level', [50, 220, 220]));
    expect(changes.map((c) => [c.from, c.to, c.atMs])).toEqual([['Normal', 'Awas', 2 * MIN]]);
    expect(changes[0]!.evidence).toMatchObject({ sensorId: 's', quantity: 'water_level', value: 220, threshold: 210, unit: 'cm' });
    expect(changes[0]!.audience).toBe('public');
  });

  it('de-escalates one level at a time after clearReadings below clear', () => {
    const d = createDetector([wl]);
    d.apply(series('s', 'water_level', [220, 220]));
    const changes = d.apply(series('s', 'water_level', [10, 10, 10, 10, 10, 10, 10, 10, 10], MIN, 10 * MIN));
    expect(changes.map((c) => c.to)).toEqual(['Siaga', 'Waspada', 'Normal']);
    expect(changes.map((c) => c.evidence.threshold)).toEqual([200, 150, 55]);
  });

  it('honours confirmMs and holdMs in event time', () => {
    const d = createDetector([rule({ ...wl, id: 'w2', confirmReadings: 1, confirmMs: 10 * MIN, holdMs: 30 * MIN, clearReadings: 1 })]);
    expect(d.apply(series('s', 'water_level', [70, 70, 70], 5 * MIN))).toHaveLength(1); // at 10 min
    expect(d.levels()['w2']).toBe('Waspada');
    expect(d.apply(series('s', 'water_level', [0, 0, 0], 10 * MIN, 20 * MIN))).toHaveLength(0); // 20..40: 20 min < hold
    expect(d.apply([reading('s', 'water_level', 0, 50 * MIN)])).toHaveLength(1);
  });

  it('ignores suspect, non-finite and foreign readings, counting them', () => {
    const d = createDetector([wl]);
    const bad = [
      reading('s', 'water_level', 999, 1, 'suspect'),
      reading('s', 'water_level', Number.NaN, 2),
      reading('s', 'water_level', Infinity, 3),
      reading('s', 'water_level', 999, Number.NaN),
      reading('other', 'water_level', 999, 4),
      reading('s', 'rain', 999, 5),
      null,
      { sensorId: 's', quantity: 'lava', value: 1, tsMs: 6 },
    ] as never[];
    expect(d.apply(bad)).toEqual([]);
    expect(d.skips()).toEqual({ notApplicable: 2, late: 0, suspect: 1, invalid: 5 });
    expect(d.levels()['wl']).toBe('Normal');
    expect(d.apply('nonsense' as never)).toEqual([]);
  });
});

describe('rate-of-change', () => {
  const rate = rule({ id: 'r', kind: 'rate-of-change', hazard: 'flood', sensorId: 's', quantity: 'water_level', windowMs: HOUR, levels: { Waspada: { raise: 30, clear: 20 } }, confirmReadings: 1, clearReadings: 1 });

  it('raises on a rise of 30 cm/h over the window, not on a slow one', () => {
    const slow = createDetector([rate]);
    expect(slow.apply(series('s', 'water_level', Array.from({ length: 120 }, (_, i) => 100 + i * 0.25)))).toEqual([]); // 15 cm/h
    const fast = createDetector([rate]);
    const changes = fast.apply(series('s', 'water_level', Array.from({ length: 120 }, (_, i) => 100 + i * 0.75))); // 45 cm/h
    expect(changes).toHaveLength(1);
    expect(changes[0]!.evidence.unit).toBe('cm/h');
    expect(changes[0]!.evidence.value).toBeCloseTo(45, 0);
    expect(changes[0]!.atMs).toBe(30 * MIN); // minSpan: half the window
  });

  it('does not turn noise over a short span into a rate', () => {
    const d = createDetector([rate]);
    expect(d.apply(series('s', 'water_level', [100, 110, 100, 110, 100]))).toEqual([]);
  });

  it('clears when the water stops rising and forgets readings older than the window after a gap', () => {
    const d = createDetector([rate]);
    d.apply(series('s', 'water_level', Array.from({ length: 60 }, (_, i) => 100 + i)));
    expect(d.levels()['r']).toBe('Waspada');
    const after = d.apply(series('s', 'water_level', [160, 160], MIN, 10 * HOUR));
    expect(d.levels()['r']).toBe('Waspada'); // a lone point after a gap gives no rate (no reference)
    expect(after).toEqual([]);
    d.apply(series('s', 'water_level', Array.from({ length: 40 }, () => 160), MIN, 10 * HOUR + 2 * MIN));
    expect(d.levels()['r']).toBe('Normal');
  });
});

describe('accumulation', () => {
  const acc = (windowMs: number) =>
    rule({ id: 'a', kind: 'accumulation', hazard: 'flood', sensorId: 'g', windowMs, levels: { Waspada: { raise: 10, clear: 8 }, Siaga: { raise: 20, clear: 16 } }, confirmReadings: 1, clearReadings: 1 });

  it('sums rain over the window and lets old rain slide out', () => {
    const d = createDetector([acc(HOUR)]);
    const changes = d.apply(series('g', 'rain', Array.from({ length: 60 }, () => 0.4))); // 24 mm/h
    expect(changes.map((c) => c.to)).toEqual(['Waspada', 'Siaga']);
    expect(changes[1]!.evidence.value).toBeGreaterThanOrEqual(20);
    const dry = d.apply(series('g', 'rain', Array.from({ length: 90 }, () => 0), MIN, 60 * MIN));
    expect(dry.map((c) => c.to)).toEqual(['Waspada', 'Normal']);
  });

  it('skips negative amounts (a counter reset upstream) and survives gaps', () => {
    const d = createDetector([acc(HOUR)]);
    expect(d.apply([reading('g', 'rain', -500, 0), reading('g', 'rain', 5, MIN), reading('g', 'rain', 4, 2 * MIN)])).toEqual([]);
    // Ten days of silence, then rain: the old 9 mm no longer count.
    expect(d.apply([reading('g', 'rain', 2, 10 * 24 * HOUR)])).toEqual([]);
    expect(d.apply([reading('g', 'rain', 9, 10 * 24 * HOUR + MIN)]).map((c) => c.to)).toEqual(['Waspada']);
  });

  it('approximates the window within one bucket width', () => {
    // 60 buckets of 1 min: rain exactly one hour ago sits in the oldest bucket or just outside.
    const d = createDetector([acc(HOUR)]);
    d.apply([reading('g', 'rain', 9, 0)]);
    expect(d.apply([reading('g', 'rain', 1, 59 * MIN)]).map((c) => c.to)).toEqual(['Waspada']);
    const d2 = createDetector([acc(HOUR)]);
    d2.apply([reading('g', 'rain', 9, 0)]);
    expect(d2.apply([reading('g', 'rain', 1, 60 * MIN)])).toEqual([]);
  });
});
