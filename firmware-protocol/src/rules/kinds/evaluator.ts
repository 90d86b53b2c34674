/**
 * What the detector needs from one rule kind: turn a reading into a number (the "measure")
 * that the level machine judges, and explain a change in words. Kind state is plain JSON.
 */
import type { Quantity } from '../../quantities.ts';
import type { MachineConfig } from '../level-machine.ts';

export interface Explained {
  /** The figure people should see (rate, sum, minutes silent...). */
  value: number;
  unit: string;
  /** The limit in the same unit as `value`. */
  threshold: number;
  description: { id: string; en: string };
}

export interface Evaluator<S = unknown> {
  sensorId: string;
  /** Undefined: readings of any quantity of the sensor (deadman). */
  quantity: Quantity | undefined;
  /** Health kinds look at suspect readings too; hazard kinds never do. */
  acceptsSuspect: boolean;
  machine: MachineConfig;
  init(): S;
  /** Feeds a reading (mutating `s`); returns the measure, or NaN when the reading is not used. */
  measure(s: S, value: number, tsMs: number, good: boolean): number;
  /**
   * Takes in a reading older than the last one judged but within the allowed lateness: windowed
   * kinds add it to their window (no verdict now; the next reading judges). Absent or false:
   * the reading says nothing about the present for this kind and is not used.
   */
  lateInsert?(s: S, value: number, tsMs: number, good: boolean): boolean;
  /** Words and numbers for a change decided by the last measure. */
  explain(s: S, escalated: boolean, machineThreshold: number, unit: string): Explained;
}

/** Rounds for human text (keeps 2 decimals, drops float dust). */
export function fmt(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/** "1 jam"/"1 h", "3 hari"/"3 days", "90 menit"/"90 min" for a duration. */
export function fmtDuration(ms: number): { id: string; en: string } {
  const h = ms / 3_600_000;
  if (h >= 48 && Number.isInteger(h / 24)) return { id: `${h / 24} hari`, en: `${h / 24} days` };
  if (h >= 1 && Number.isInteger(h)) return { id: `${h} jam`, en: `${h} h` };
  return { id: `${fmt(ms / 60_000)} menit`, en: `${fmt(ms / 60_000)} min` };
}

export function bandsOf(levels: Partial<Record<'Waspada' | 'Siaga' | 'Awas', { raise: number; clear: number }>>): MachineConfig['bands'] {
  return [null, levels.Waspada ?? null, levels.Siaga ?? null, levels.Awas ?? null];
}

export const RANK_OF = { Waspada: 1, Siaga: 2, Awas: 3 } as const;
