import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LEVELS, type Level } from '@kentongan/firmware-protocol';
import { thresholdRuleSchema, type ThresholdRule } from '../../src/config/schema.ts';
import {
  evaluateThreshold,
  initialThresholdState,
  normalizeThresholdState,
  thresholdRuleProblems,
  type ThresholdInput,
  type ThresholdState,
  type ThresholdVerdict,
} from '../../src/detection/threshold.ts';

const rule: ThresholdRule = thresholdRuleSchema.parse({
  id: 'r1',
  kind: 'threshold',
  hazard: 'flood',
  sensorId: 's1',
  quantity: 'water_level',
  levels: {
    Waspada: { raise: 60, clear: 55 },
    Siaga: { raise: 160, clear: 150 },
    Awas: { raise: 210, clear: 200 },
  },
  confirmReadings: 2,
  clearReadings: 3,
});

let minute = 0;
function reading(value: number, over: Partial<ThresholdInput> = {}): ThresholdInput {
  minute++;
  return {
    sensorId: 's1',
    quantity: 'water_level',
    value,
    unit: 'cm',
    ts: new Date(Date.UTC(2026, 10, 28, 7, 0) + minute * 60_000).toISOString(),
    quality: 'good',
    ...over,
  };
}

/** Feeds values; returns the final state and every verdict. */
function run(values: number[], r: ThresholdRule = rule, start: ThresholdState = initialThresholdState()) {
  let state = start;
  const verdicts: ThresholdVerdict[] = [];
  for (const v of values) {
    const res = evaluateThreshold(r, state, reading(v));
    state = res.state;
    verdicts.push(res.verdict);
  }
  return { state, verdicts, changes: verdicts.filter((v) => v.kind === 'escalated' || v.kind === 'deescalated') };
}

describe('evaluateThreshold', () => {
  it('needs confirmReadings consecutive readings to escalate; one spike does nothing', () => {
    expect(run([70]).state.level).toBe('Normal');
    expect(run([70, 40, 70]).state.level).toBe('Normal');
    const { state, changes } = run([70, 75]);
    expect(state.level).toBe('Waspada');
    expect(changes).toEqual([{ kind: 'escalated', from: 'Normal', to: 'Waspada', threshold: 60, value: 75 }]);
  });

  it('jumps straight to the highest confirmed level', () => {
    const { state, changes } = run([220, 230]);
    expect(state.level).toBe('Awas');
    expect(changes).toEqual([{ kind: 'escalated', from: 'Normal', to: 'Awas', threshold: 210, value: 230 }]);
  });

  it('escalates to the level confirmed so far, then on to the higher one', () => {
    // 70 confirms nothing yet; 170 confirms Waspada (2 readings >= 60) but Siaga only once.
    const { changes } = run([70, 170, 170]);
    expect(changes.map((c) => c.kind === 'escalated' && c.to)).toEqual(['Waspada', 'Siaga']);
  });

  it('readings between clear and raise never change the level', () => {
    const up = run([170, 170]);
    expect(up.state.level).toBe('Siaga');
    const band = run([150, 155, 159.9, 150, 158, 151, 150, 159], rule, up.state);
    expect(band.changes).toEqual([]);
    expect(band.state.level).toBe('Siaga');
  });

  it('de-escalates only after clearReadings below clear, one level at a time', () => {
    const up = run([230, 230]);
    expect(up.state.level).toBe('Awas');
    // Two below, one in the band (resets), three below -> Siaga only.
    const step1 = run([10, 10, 205, 10, 10], rule, up.state);
    expect(step1.changes).toEqual([]);
    const step2 = run([10], rule, step1.state);
    expect(step2.changes).toEqual([{ kind: 'deescalated', from: 'Awas', to: 'Siaga', threshold: 200, value: 10 }]);
    const rest = run([10, 10, 10, 10, 10, 10], rule, step2.state);
    expect(rest.changes.map((c) => c.kind === 'deescalated' && `${c.from}->${c.to}`)).toEqual([
      'Siaga->Waspada',
      'Waspada->Normal',
    ]);
    expect(rest.state.level).toBe('Normal');
  });

  it('de-escalation skips levels the rule does not configure', () => {
    const sparse = thresholdRuleSchema.parse({ ...rule, levels: { Waspada: rule.levels.Waspada, Awas: rule.levels.Awas } });
    const up = run([230, 230], sparse);
    const down = run([0, 0, 0], sparse, up.state);
    expect(down.changes).toEqual([{ kind: 'deescalated', from: 'Awas', to: 'Waspada', threshold: 200, value: 0 }]);
  });

  it('ignores late readings and counts them as late', () => {
    const s1 = run([70, 75]).state;
    const late = evaluateThreshold(rule, s1, reading(10, { ts: '2026-11-28T06:00:00.000Z' }));
    expect(late.verdict).toEqual({ kind: 'ignored', reason: 'late' });
    expect(late.state).toBe(s1);
  });

  it('ignores suspect readings without breaking a confirmation run', () => {
    let state = initialThresholdState();
    for (const r of [reading(70), reading(9999, { quality: 'suspect' }), reading(70)]) {
      const res = evaluateThreshold(rule, state, r);
      if (r.quality === 'suspect') expect(res.verdict).toEqual({ kind: 'ignored', reason: 'suspect' });
      state = res.state;
    }
    expect(state.level).toBe('Waspada');
  });

  it('ignores other sensors and quantities, NaN values and bad timestamps', () => {
    const s = initialThresholdState();
    expect(evaluateThreshold(rule, s, reading(500, { sensorId: 's2' })).verdict).toEqual({ kind: 'ignored', reason: 'not_applicable' });
    expect(evaluateThreshold(rule, s, reading(500, { quantity: 'rain' })).verdict).toEqual({ kind: 'ignored', reason: 'not_applicable' });
    expect(evaluateThreshold(rule, s, reading(Number.NaN)).verdict).toEqual({ kind: 'ignored', reason: 'invalid' });
    expect(evaluateThreshold(rule, s, reading(500, { ts: 'yesterday' })).verdict).toEqual({ kind: 'ignored', reason: 'invalid' });
  });

  it('keeps its state bounded however long a level lasts', () => {
    const { state } = run(Array.from({ length: 500 }, () => 300));
    expect(state.raiseRuns).toEqual({ Waspada: 2, Siaga: 2, Awas: 2 });
    expect(JSON.stringify(state).length).toBeLessThan(200);
  });

  it('does not mutate the state it is given', () => {
    const s = initialThresholdState();
    const copy = structuredClone(s);
    evaluateThreshold(rule, s, reading(300));
    expect(s).toEqual(copy);
  });

  it('reports rules whose raises do not increase', () => {
    const bad = thresholdRuleSchema.parse({ ...rule, levels: { Waspada: { raise: 100, clear: 90 }, Siaga: { raise: 100, clear: 95 } } });
    expect(thresholdRuleProblems(bad)).toEqual(['levels.Siaga.raise must be > levels.Waspada.raise']);
    expect(thresholdRuleProblems(rule)).toEqual([]);
  });

  it('normalises a persisted level the rule no longer has', () => {
    const onlyWaspada = thresholdRuleSchema.parse({ ...rule, levels: { Waspada: rule.levels.Waspada } });
    const awas = run([230, 230]).state;
    expect(normalizeThresholdState(onlyWaspada, awas).level).toBe('Waspada');
    expect(normalizeThresholdState(rule, awas)).toBe(awas);
  });
});

describe('evaluateThreshold properties', () => {
  const hazardLevels = LEVELS.filter((l): l is Exclude<Level, 'Normal'> => l !== 'Normal');

  it('noise within [clear, raise) of the current level never changes it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...hazardLevels),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 200 }),
        (level, fractions) => {
          // Reach the level first with readings just at its raise.
          const def = rule.levels[level]!;
          const reached = run([def.raise, def.raise]);
          expect(reached.state.level).toBe(level);
          const noise = fractions.map((f) => def.clear + f * (def.raise - def.clear));
          const after = run(noise, rule, reached.state);
          return after.changes.length === 0 && after.state.level === level;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any sequence changes level by at most one step per de-escalation, and only via clear', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 300 }), (values) => {
        const { changes } = run(values);
        for (const c of changes) {
          if (c.kind !== 'deescalated') continue;
          if (LEVELS.indexOf(c.from) - LEVELS.indexOf(c.to) !== 1) return false;
          if (!(c.value < c.threshold)) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });
});
