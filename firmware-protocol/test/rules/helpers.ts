/** Small builders for rule tests (readings at minute steps, parsed rules). */
import { ruleSchema, type Rule, type RuleInput, type RuleReading, type Quantity } from '../../src/index.ts';

export const MIN = 60_000;
export const HOUR = 3_600_000;

export function rule(input: RuleInput): Rule {
  return ruleSchema.parse(input);
}

export function reading(sensorId: string, quantity: Quantity, value: number, tsMs: number, quality: 'good' | 'suspect' = 'good'): RuleReading {
  return { sensorId, quantity, value, unit: 'x', tsMs, quality };
}

/** One reading per `stepMs` from `startMs`, values from the list. */
export function series(sensorId: string, quantity: Quantity, values: readonly number[], stepMs = MIN, startMs = 0): RuleReading[] {
  return values.map((v, i) => reading(sensorId, quantity, v, startMs + i * stepMs));
}

/** The fields of a change that must agree between runs. */
export function key(c: { ruleId: string; from: string; to: string; atMs: number }): string {
  return `${c.ruleId}:${c.from}->${c.to}@${c.atMs}`;
}
