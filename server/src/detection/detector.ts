/**
 * The one place the server picks its `Detector` (firmware-protocol's shared contract): the alert
 * engine, the backtest and the benches all build theirs here, so live detection and the backtest
 * can never disagree about a rule.
 */
import { createDetector, ruleProblems, type Detector, type DetectorOptions, type Quantity } from '@kentongan/firmware-protocol';
import type { Rule } from '../config/schema.ts';

export type { Detector, RuleChange, RuleReading } from '@kentongan/firmware-protocol';

/** Builds a detector for a rule set, continuing from a snapshot when one is given. */
export type DetectorFactory = (rules: readonly Rule[], snapshot?: unknown) => Detector;

/** The shared detector (`@kentongan/firmware-protocol` `createDetector`) with the server's options. */
export function createDetectorFactory(options: DetectorOptions = {}): DetectorFactory {
  return (rules, snapshot) => createDetector(rules, snapshot, options);
}

export const defaultDetectorFactory: DetectorFactory = createDetectorFactory();

/** Problems across the rule set: level order, duplicates, composites naming unknown rules, cycles. */
export function ruleSetProblemsOf(rules: readonly Rule[]): string[] {
  return ruleProblems(rules);
}

/**
 * Every sensor a rule reads, whatever its kind: `sensorId`, `sensorIds`, or entries of
 * `sensors`/`inputs`/`parts` that name one (composite rules), in order, without repeats.
 */
export function sensorIdsOf(rule: unknown): string[] {
  const out: string[] = [];
  const visit = (x: unknown, depth: number) => {
    if (depth > 3 || x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      for (const item of x) typeof item === 'string' && depth > 0 ? out.push(item) : visit(item, depth + 1);
      return;
    }
    for (const [k, v] of Object.entries(x)) {
      if (k === 'sensorId' && typeof v === 'string') out.push(v);
      else if (k === 'sensorIds' && Array.isArray(v)) {
        for (const s of v) if (typeof s === 'string') out.push(s);
      } else if (k === 'sensors' || k === 'inputs' || k === 'parts' || k === 'rules' || k === 'conditions') visit(v, depth + 1);
    }
  };
  visit(rule, 0);
  return [...new Set(out)];
}

/** The quantity a rule watches, when it watches one. */
export function quantityOf(rule: unknown): Quantity | undefined {
  const q = (rule as { quantity?: unknown }).quantity;
  return typeof q === 'string' ? (q as Quantity) : undefined;
}
