/** The fast-check properties of issue 4 (kept small: ~100 runs each, well under a second). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDetector, type Rule, type RuleChange, type RuleReading } from '../../src/index.ts';
import { HOUR, MIN, key, reading, rule } from './helpers.ts';

const bands = { Waspada: { raise: 60, clear: 50 }, Siaga: { raise: 160, clear: 140 }, Awas: { raise: 210, clear: 200 } };

/** A mixed rule set over two sensors: every kind that readings drive, plus a composite. */
const RULES: Rule[] = [
  rule({ id: 'wl', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'water_level', levels: bands, confirmReadings: 2, clearReadings: 2 }),
  rule({ id: 'rise', kind: 'rate-of-change', hazard: 'flood', sensorId: 's', quantity: 'water_level', windowMs: HOUR, buckets: 12, levels: { Waspada: { raise: 30, clear: 20 } } }),
  rule({ id: 'flat', kind: 'flatline', sensorId: 's', quantity: 'water_level', minReadings: 4 }),
  rule({ id: 'r1h', kind: 'accumulation', hazard: 'flood', sensorId: 'g', windowMs: HOUR, buckets: 12, levels: { Waspada: { raise: 10, clear: 8 }, Siaga: { raise: 20, clear: 16 } }, confirmReadings: 1, clearReadings: 1 }),
  rule({ id: 'sus', kind: 'sustained-intensity', hazard: 'flood', sensorId: 'g', minPerHour: 5, minDurationMs: 2 * HOUR }),
  rule({ id: 'caine', kind: 'intensity-duration', hazard: 'landslide', sensorId: 'g', a: 14.82, b: -0.39 }),
  rule({ id: 'both', kind: 'composite', hazard: 'flood', level: 'Awas', alignMs: HOUR, conditions: [{ ruleId: 'wl', minLevel: 'Siaga' }, { ruleId: 'r1h', minLevel: 'Waspada' }] }),
];
const NO_COMPOSITE = RULES.filter((r) => r.kind !== 'composite');

/** In-order readings of both sensors at 5-minute steps with strictly increasing times. */
const stream = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 260 }), fc.integer({ min: 0, max: 40 }).map((x) => x / 10)), { minLength: 1, maxLength: 80 })
  .map((rows) => rows.flatMap(([level, rain], i): RuleReading[] => [reading('s', 'water_level', level, i * 5 * MIN), reading('g', 'rain', rain, i * 5 * MIN)]));

function runAll(rules: readonly Rule[], batches: RuleReading[][], opts = {}): RuleChange[] {
  const d = createDetector(rules, undefined, opts);
  return batches.flatMap((b) => d.apply(b));
}

function splitAt(xs: RuleReading[], cuts: number[]): RuleReading[][] {
  const points = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
  const out: RuleReading[][] = [];
  let prev = 0;
  for (const p of [...points, xs.length]) {
    out.push(xs.slice(prev, p));
    prev = p;
  }
  return out;
}

describe('detector properties', () => {
  it('noise inside a hysteresis band never changes the level', () => {
    fc.assert(
      fc.property(fc.constantFrom('Waspada', 'Siaga', 'Awas' as const), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }), (level, noise) => {
        const band = bands[level];
        const next = level === 'Waspada' ? bands.Siaga.raise : level === 'Siaga' ? bands.Awas.raise : 1e6;
        const d = createDetector([RULES[0]!]);
        d.apply([reading('s', 'water_level', band.raise, 0), reading('s', 'water_level', band.raise, MIN)]);
        expect(d.levels()['wl']).toBe(level);
        const inBand = noise.map((x, i) => reading('s', 'water_level', band.clear + x * (next - band.clear) * 0.999, (i + 2) * MIN));
        expect(d.apply(inBand)).toEqual([]);
        expect(d.levels()['wl']).toBe(level);
      }),
    );
  });

  it('levels never skip confirmation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 260 }), { maxLength: 80 }), (confirm, values) => {
        const r = rule({ id: 'wl', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'water_level', levels: bands, confirmReadings: confirm, clearReadings: 1 });
        const d = createDetector([r]);
        const changes = d.apply(values.map((v, i) => reading('s', 'water_level', v, i * MIN)));
        for (const c of changes.filter((x) => x.kind === 'escalated')) {
          const i = c.atMs / MIN;
          const raise = bands[c.to as keyof typeof bands].raise;
          expect(i + 1).toBeGreaterThanOrEqual(confirm);
          for (let k = i - confirm + 1; k <= i; k++) expect(values[k]!).toBeGreaterThanOrEqual(raise);
        }
      }),
    );
  });

  it('the same readings twice, in any batch split, give the same changes', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 6 }), (xs, cuts) => {
        const whole = runAll(RULES, [xs]).map(key);
        const split = splitAt(xs, cuts);
        expect(runAll(RULES, [...split, ...split]).map(key)).toEqual(whole);
        // With an allowed lateness, replayed readings are recognised as duplicates, not late rain.
        expect(runAll(RULES, [...split, ...split], { allowedLatenessMs: 2 * HOUR }).map(key)).toEqual(whole);
      }),
    );
  });

  it('out-of-order delivery within the reorder window gives the in-order changes', () => {
    const L = 20 * MIN;
    fc.assert(
      fc.property(stream, fc.array(fc.integer({ min: 0, max: L - 1 })), fc.array(fc.nat(), { maxLength: 6 }), (xs, jitter, cuts) => {
        const arrival = xs
          .map((r, i) => ({ r, at: r.tsMs + (jitter[i % Math.max(1, jitter.length)] ?? 0) }))
          .sort((a, b) => a.at - b.at)
          .map((x) => x.r);
        const end = xs.at(-1)!.tsMs + L;
        const inOrder = createDetector(NO_COMPOSITE, undefined, { reorderMs: L });
        const a = [...inOrder.apply(xs), ...inOrder.tick(end)];
        const shuffled = createDetector(NO_COMPOSITE, undefined, { reorderMs: L });
        const b = [...splitAt(arrival, cuts).flatMap((batch) => shuffled.apply(batch)), ...shuffled.tick(end)];
        const perRule = (cs: RuleChange[]) => NO_COMPOSITE.map((r) => cs.filter((c) => c.ruleId === r.id).map(key));
        expect(perRule(b)).toEqual(perRule(a));
        expect(shuffled.skips().late).toBe(0);
        // And the same as a detector without lateness fed in order (no change lost or invented).
        expect(perRule(b)).toEqual(perRule(runAll(NO_COMPOSITE, [xs])));
      }),
    );
  });

  it('snapshot at any point + restore + the rest = an uninterrupted run', () => {
    fc.assert(
      fc.property(stream, fc.nat(), (xs, cut) => {
        const k = cut % (xs.length + 1);
        const whole = runAll(RULES, [xs]).map(key);
        const first = createDetector(RULES);
        const before = first.apply(xs.slice(0, k));
        const second = createDetector(RULES, JSON.parse(JSON.stringify(first.snapshot())));
        expect(second.restore.freshRuleIds).toEqual([]);
        const after = second.apply(xs.slice(k));
        expect([...before, ...after].map(key)).toEqual(whole);
        expect(second.levels()).toEqual(runLevels(xs));
      }),
    );
  });
});

function runLevels(xs: RuleReading[]) {
  const d = createDetector(RULES);
  d.apply(xs);
  return d.levels();
}
