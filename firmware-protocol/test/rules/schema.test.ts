import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ruleProblems, ruleSchema, ruleSetSchema, type Rule } from '../../src/index.ts';
import { rule } from './helpers.ts';

const root = new URL('../../../', import.meta.url);
const json = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));
const levels = { Waspada: { raise: 10, clear: 8 } };

describe('ruleSchema', () => {
  it('parses the threshold rules of the existing server configs unchanged (backward compatible)', () => {
    for (const file of ['server/config/example.json', 'server/config/compose.json']) {
      const rules = (json(file).rules ?? []) as unknown[];
      for (const r of rules) {
        const parsed = ruleSchema.parse(r);
        expect(parsed).toMatchObject(r as object);
        expect(parsed.kind).toBe('threshold');
      }
    }
  });

  it('parses the default Sumedang rule set with no cross-rule problems', () => {
    const set = ruleSetSchema.parse(json('server/config/rules/sumedang-default.json'));
    expect(set.rules.length).toBeGreaterThan(40);
    expect(ruleProblems(set.rules)).toEqual([]);
    const kinds = new Set(set.rules.map((r) => r.kind));
    for (const k of ['threshold', 'rate-of-change', 'accumulation', 'sustained-intensity', 'intensity-duration', 'composite', 'deadman', 'flatline', 'out-of-range', 'low-battery', 'tamper']) {
      expect(kinds.has(k as Rule['kind'])).toBe(true);
    }
    for (const r of set.rules) expect(r.note, r.id).toBeTruthy();
  });

  it.each([
    ['unknown kind', { id: 'a', kind: 'magic', hazard: 'flood' }],
    ['NaN threshold', { id: 'a', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'rain', levels: { Waspada: { raise: Number.NaN, clear: 1 } } }],
    ['Infinity threshold', { id: 'a', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'rain', levels: { Waspada: { raise: Infinity, clear: 1 } } }],
    ['huge window', { id: 'a', kind: 'accumulation', hazard: 'flood', sensorId: 's', windowMs: 1e15, levels }],
    ['fractional window', { id: 'a', kind: 'accumulation', hazard: 'flood', sensorId: 's', windowMs: 1000.5, levels }],
    ['no levels', { id: 'a', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'rain', levels: {} }],
    ['clear above raise', { id: 'a', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'rain', levels: { Waspada: { raise: 1, clear: 2 } } }],
    ['extra field', { id: 'a', kind: 'deadman', sensorId: 's', timeoutMs: 60_000, surprise: 1 }],
    ['bad id', { id: 'a b', kind: 'deadman', sensorId: 's', timeoutMs: 60_000 }],
    ['unknown quantity', { id: 'a', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'lava', levels }],
    ['empty composite', { id: 'a', kind: 'composite', hazard: 'flood', level: 'Awas', conditions: [] }],
    ['not an object', 'threshold'],
  ])('rejects %s', (_name, input) => {
    expect(ruleSchema.safeParse(input).success).toBe(false);
  });

  it('fills defaults for the anti-flapping fields', () => {
    const r = rule({ id: 'a', kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'rain', levels });
    expect(r).toMatchObject({ confirmReadings: 2, clearReadings: 3, confirmMs: 0, holdMs: 0, announce: true });
  });
});

describe('ruleProblems', () => {
  const t = (id: string, l: object = levels): Rule => rule({ id, kind: 'threshold', hazard: 'flood', sensorId: 's', quantity: 'rain', levels: l });
  const c = (id: string, ...ids: string[]): Rule =>
    rule({ id, kind: 'composite', hazard: 'flood', level: 'Awas', conditions: ids.map((ruleId) => ({ ruleId, minLevel: 'Siaga' })) });

  it('reports raise ordering, duplicates, unknown ids, self use and cycles', () => {
    const problems = ruleProblems([
      t('a', { Waspada: { raise: 10, clear: 9 }, Siaga: { raise: 10, clear: 9 } }),
      t('a'),
      c('x', 'nope'),
      c('self', 'self'),
      c('p', 'q'),
      c('q', 'p'),
    ]);
    expect(problems.some((p) => p.includes('levels.Siaga.raise'))).toBe(true);
    expect(problems.some((p) => p.includes('duplicate rule id'))).toBe(true);
    expect(problems.some((p) => p.includes('unknown rule "nope"'))).toBe(true);
    expect(problems.some((p) => p.includes('cannot use itself'))).toBe(true);
    expect(problems.some((p) => p.startsWith('composite cycle: p -> q -> p'))).toBe(true);
  });

  it('reports kind-specific ranges', () => {
    const problems = ruleProblems([
      rule({ id: 'r', kind: 'out-of-range', sensorId: 's', quantity: 'rain', min: 5, max: 1 }),
      rule({ id: 'b', kind: 'low-battery', sensorId: 's', belowV: 12, clearV: 11 }),
      rule({ id: 'si', kind: 'sustained-intensity', hazard: 'flood', sensorId: 's', minPerHour: 5, minDurationMs: 60_000, stepMs: 3_600_000 }),
      rule({ id: 'rc', kind: 'rate-of-change', hazard: 'flood', sensorId: 's', quantity: 'water_level', windowMs: 60_000, minSpanMs: 120_000, levels }),
    ]);
    expect(problems).toHaveLength(4);
  });

  it('is empty for a good set', () => {
    expect(ruleProblems([t('a'), t('b'), c('x', 'a', 'b')])).toEqual([]);
  });
});
