/**
 * Multi-level threshold detection (DESIGN "Detection and alert model"): pure and incremental,
 * O(1) per reading with a small fixed-size state per rule.
 *
 * - Escalation: a level is *confirmed* after `confirmReadings` consecutive applicable readings
 *   at or above its `raise`. Escalation is immediate once confirmed and goes straight to the
 *   highest confirmed level above the current one (it may skip levels: a flash flood must not
 *   wait for Waspada and Siaga to be announced first).
 * - De-escalation: only after `clearReadings` consecutive readings below the *current* level's
 *   `clear` (hysteresis), and one configured level at a time, so each step is announced.
 * - Readings in [clear, raise) of the current level never change it.
 * - Readings not newer than the last evaluated one are ignored (`late`); suspect-quality readings
 *   are ignored (`suspect`) and neither count toward nor break a run; so are non-finite values
 *   and unparsable timestamps (`invalid`). Event-time reordering is a later issue.
 */
import { z } from 'zod';
import { LEVELS, levelRank, type Level, type Quantity } from '@kentongan/firmware-protocol';
import type { ThresholdRule } from '../config/schema.ts';

/** The levels above Normal, lowest first. */
export const HAZARD_LEVELS = ['Waspada', 'Siaga', 'Awas'] as const;
export type HazardLevel = (typeof HAZARD_LEVELS)[number];

/** Per-rule detection state; small, JSON-serialisable, persisted after every change. */
export interface ThresholdState {
  level: Level;
  /** Event time (ms since epoch) of the last evaluated reading; null before the first. */
  lastTsMs: number | null;
  /** Consecutive applicable readings at or above each level's `raise` (capped). */
  raiseRuns: Record<HazardLevel, number>;
  /** Consecutive applicable readings below the current level's `clear` (capped). */
  clearRun: number;
}

/** zod schema for a persisted state (rejects anything a bug or a hand edit could leave). */
export const thresholdStateSchema = z.strictObject({
  level: z.enum(LEVELS),
  lastTsMs: z.number().finite().nullable(),
  raiseRuns: z.strictObject({
    Waspada: z.int().min(0),
    Siaga: z.int().min(0),
    Awas: z.int().min(0),
  }),
  clearRun: z.int().min(0),
});

/** The part of a stored reading the evaluator looks at. */
export interface ThresholdInput {
  sensorId: string;
  quantity: Quantity;
  value: number;
  unit: string;
  ts: string;
  quality: 'good' | 'suspect';
}

export type IgnoreReason = 'not_applicable' | 'late' | 'suspect' | 'invalid';

export type ThresholdVerdict =
  | { kind: 'ignored'; reason: IgnoreReason }
  | { kind: 'unchanged'; level: Level }
  | {
      kind: 'escalated' | 'deescalated';
      from: Level;
      to: Level;
      /** The threshold that was crossed: the new level's `raise`, or the old level's `clear`. */
      threshold: number;
      value: number;
    };

export function initialThresholdState(level: Level = 'Normal'): ThresholdState {
  return { level, lastTsMs: null, raiseRuns: { Waspada: 0, Siaga: 0, Awas: 0 }, clearRun: 0 };
}

/** Configured hazard levels of a rule, lowest first. */
export function configuredLevels(rule: ThresholdRule): HazardLevel[] {
  return HAZARD_LEVELS.filter((l) => rule.levels[l] !== undefined);
}

/**
 * Problems that make a rule's levels ambiguous: each configured level must raise strictly
 * above the one below it, or "the highest confirmed level" and hysteresis lose their meaning.
 */
export function thresholdRuleProblems(rule: ThresholdRule): string[] {
  const problems: string[] = [];
  const levels = configuredLevels(rule);
  for (let i = 1; i < levels.length; i++) {
    const lower = rule.levels[levels[i - 1]!]!;
    const upper = rule.levels[levels[i]!]!;
    if (upper.raise <= lower.raise) {
      problems.push(`levels.${levels[i]}.raise must be > levels.${levels[i - 1]}.raise`);
    }
  }
  return problems;
}

/**
 * Brings a loaded state in line with the rule as configured now: a level that the rule no
 * longer has drops to the nearest configured level below it (or Normal), and runs restart.
 */
export function normalizeThresholdState(rule: ThresholdRule, state: ThresholdState): ThresholdState {
  if (state.level === 'Normal' || rule.levels[state.level] !== undefined) return state;
  const below = configuredLevels(rule).filter((l) => levelRank(l) < levelRank(state.level));
  return { ...initialThresholdState(below.at(-1) ?? 'Normal'), lastTsMs: state.lastTsMs };
}

/** Evaluates one reading against a rule. Pure: returns a new state, never mutates. */
export function evaluateThreshold(
  rule: ThresholdRule,
  state: ThresholdState,
  reading: ThresholdInput,
): { state: ThresholdState; verdict: ThresholdVerdict } {
  if (reading.sensorId !== rule.sensorId || reading.quantity !== rule.quantity) {
    return { state, verdict: { kind: 'ignored', reason: 'not_applicable' } };
  }
  const tsMs = Date.parse(reading.ts);
  if (!Number.isFinite(tsMs) || !Number.isFinite(reading.value)) {
    return { state, verdict: { kind: 'ignored', reason: 'invalid' } };
  }
  // Equal times count as late too: a replayed reading must not advance a confirmation run twice.
  if (state.lastTsMs !== null && tsMs <= state.lastTsMs) {
    return { state, verdict: { kind: 'ignored', reason: 'late' } };
  }
  if (reading.quality !== 'good') {
    // Suspect values are outside the sensor's physical range: a fault, not a hazard.
    return { state, verdict: { kind: 'ignored', reason: 'suspect' } };
  }

  const value = reading.value;
  const levels = configuredLevels(rule);
  // Runs are capped so the state stays bounded however long a level lasts.
  const raiseRuns = { ...state.raiseRuns };
  for (const l of HAZARD_LEVELS) {
    const def = rule.levels[l];
    raiseRuns[l] = def !== undefined && value >= def.raise ? Math.min(raiseRuns[l] + 1, rule.confirmReadings) : 0;
  }

  const base: ThresholdState = { ...state, lastTsMs: tsMs, raiseRuns };

  // Escalation first: the highest confirmed level above the current one wins.
  const confirmed = levels.filter((l) => levelRank(l) > levelRank(state.level) && raiseRuns[l] >= rule.confirmReadings);
  const target = confirmed.at(-1);
  if (target !== undefined) {
    return {
      state: { ...base, level: target, clearRun: 0 },
      verdict: { kind: 'escalated', from: state.level, to: target, threshold: rule.levels[target]!.raise, value },
    };
  }

  if (state.level === 'Normal') return { state: { ...base, clearRun: 0 }, verdict: { kind: 'unchanged', level: 'Normal' } };

  const current = rule.levels[state.level];
  if (current === undefined) {
    // Only reachable with a state that was not normalised; hold the level rather than guess.
    return { state: { ...base, clearRun: 0 }, verdict: { kind: 'unchanged', level: state.level } };
  }
  if (value >= current.clear) {
    return { state: { ...base, clearRun: 0 }, verdict: { kind: 'unchanged', level: state.level } };
  }
  const clearRun = Math.min(state.clearRun + 1, rule.clearReadings);
  if (clearRun < rule.clearReadings) {
    return { state: { ...base, clearRun }, verdict: { kind: 'unchanged', level: state.level } };
  }
  const below = levels.filter((l) => levelRank(l) < levelRank(state.level));
  const next: Level = below.at(-1) ?? 'Normal';
  return {
    state: { ...base, level: next, clearRun: 0 },
    verdict: { kind: 'deescalated', from: state.level, to: next, threshold: current.clear, value },
  };
}
