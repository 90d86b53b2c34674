/**
 * The detection contract shared by the server (alert engine, backtest) and the gateway (local
 * rules evaluated while its uplink is down). Rules are data (`ruleSchema` in ./schema.ts);
 * a `Detector` evaluates a rule set incrementally: bounded state per rule, O(1) per reading,
 * deterministic for the same readings whatever the batch split, and serialisable so that a
 * restart continues where it stopped.
 *
 * Time is event time (`tsMs` of readings, `nowMs` of ticks), never the wall clock.
 */
import type { Level } from '../levels.ts';
import type { Quantity } from '../quantities.ts';

/** The part of a reading detection looks at. */
export interface RuleReading {
  sensorId: string;
  quantity: Quantity;
  value: number;
  unit: string;
  /** Event time, ms since the Unix epoch (UTC). */
  tsMs: number;
  quality: 'good' | 'suspect';
}

/** Who a rule's alerts are for: hazard rules warn the public, health rules only technicians. */
export type RuleAudience = 'public' | 'technician';

/** Why a level changed: numbers for machines, a short bilingual description for people. */
export interface RuleEvidence {
  sensorId: string;
  quantity: Quantity | null;
  value: number;
  unit: string;
  /** Event time of the reading (or tick) that decided the change. */
  tsMs: number;
  /** The limit crossed (raise on escalation, clear on de-escalation). */
  threshold: number;
  /** e.g. `{ id: 'naik 32 cm/jam dalam 1 jam', en: 'rise of 32 cm/h over 1 h' }`. */
  description: { id: string; en: string };
}

/** One level change of one rule. */
export interface RuleChange {
  ruleId: string;
  hazard: 'flood' | 'landslide' | 'sensor-health';
  audience: RuleAudience;
  kind: 'escalated' | 'deescalated';
  from: Level;
  to: Level;
  /** Event time of the change. */
  atMs: number;
  evidence: RuleEvidence;
}

/** Readings a detector did not evaluate, by reason (for counters and metrics). */
export interface DetectorSkips {
  notApplicable: number;
  /** Older than the sensor's event-time watermark minus the allowed lateness. */
  late: number;
  suspect: number;
  invalid: number;
}

export interface Detector {
  /**
   * Evaluates readings (any order within a call; evaluated in event-time order per sensor)
   * and returns the level changes they cause, in event-time order.
   */
  apply(readings: readonly RuleReading[]): RuleChange[];
  /** Advances event time without readings (deadman/offline rules, hold times). */
  tick(nowMs: number): RuleChange[];
  /** Current level of every rule. */
  levels(): Record<string, Level>;
  skips(): DetectorSkips;
  /** JSON-serialisable state; `createDetector(rules, snapshot)` continues from it. */
  snapshot(): unknown;
}
