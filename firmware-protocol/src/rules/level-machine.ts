/**
 * The one anti-flapping state machine every kind feeds with a number (its "measure"):
 * - escalation to a level needs `confirmReadings` consecutive measures at or above its raise
 *   and `confirmMs` since the first of them; once confirmed it is immediate and goes straight
 *   to the highest confirmed level (a flash flood must not wait for Waspada to be announced);
 * - de-escalation needs `clearReadings` consecutive measures below the current level's clear
 *   and `holdMs` since the first of them, and drops one configured level at a time;
 * - a measure in [clear, raise) of the current level changes nothing (hysteresis).
 * State is plain JSON (numbers, nulls, arrays) so snapshots round-trip exactly.
 */

/** A band per rank 1..3 (index 0 unused), null where the level is not configured. */
export interface MachineConfig {
  bands: ReadonlyArray<{ raise: number; clear: number } | null>;
  confirmReadings: number;
  confirmMs: number;
  clearReadings: number;
  holdMs: number;
}

export interface MachineState {
  /** Current rank 0 (Normal) .. 3 (Awas). */
  lv: number;
  /** Per rank: consecutive measures at or above its raise (capped), and when the run began. */
  rr: [number, number, number, number];
  rs: [number | null, number | null, number | null, number | null];
  /** Consecutive measures below the current clear, and when that run began. */
  cr: number;
  cs: number | null;
  /** Per rank: event time the rule last left that rank going down (composite alignment). */
  left: [number | null, number | null, number | null, number | null];
}

export function initialMachine(): MachineState {
  return { lv: 0, rr: [0, 0, 0, 0], rs: [null, null, null, null], cr: 0, cs: null, left: [null, null, null, null] };
}

export interface Step {
  from: number;
  to: number;
  threshold: number;
}

/** Feeds one measure at event time `ts`; mutates `s` and returns the level change, if any. */
export function stepMachine(cfg: MachineConfig, s: MachineState, measure: number, ts: number): Step | null {
  let target = 0;
  for (let rank = 1; rank <= 3; rank++) {
    const band = cfg.bands[rank];
    if (!band) continue;
    if (measure >= band.raise) {
      if (s.rr[rank] === 0) s.rs[rank] = ts;
      if (s.rr[rank]! < cfg.confirmReadings) s.rr[rank]!++;
      if (rank > s.lv && s.rr[rank]! >= cfg.confirmReadings && ts - s.rs[rank]! >= cfg.confirmMs) target = rank;
    } else {
      s.rr[rank] = 0;
      s.rs[rank] = null;
    }
  }
  if (target > s.lv) {
    const from = s.lv;
    s.lv = target;
    s.cr = 0;
    s.cs = null;
    return { from, to: target, threshold: cfg.bands[target]!.raise };
  }
  const band = cfg.bands[s.lv];
  if (s.lv === 0 || !band || measure >= band.clear) {
    s.cr = 0;
    s.cs = null;
    return null;
  }
  if (s.cr === 0) s.cs = ts;
  if (s.cr < cfg.clearReadings) s.cr++;
  if (s.cr < cfg.clearReadings || ts - s.cs! < cfg.holdMs) return null;
  let next = s.lv - 1;
  while (next > 0 && !cfg.bands[next]) next--;
  const from = s.lv;
  // Every rank between the old and the new level was left now (levels may be unconfigured).
  for (let r = next + 1; r <= from; r++) s.left[r] = ts;
  s.lv = next;
  s.cr = 0;
  s.cs = null;
  return { from, to: next, threshold: band.clear };
}

/** True when a restored state is usable with this config (its level is configured). */
export function machineFits(cfg: MachineConfig, s: MachineState): boolean {
  return Number.isInteger(s.lv) && s.lv >= 0 && s.lv <= 3 && (s.lv === 0 || cfg.bands[s.lv] != null);
}

/** Config of the single-level kinds: measure 1 = bad, 0 = good, 0.5 = in the hysteresis band. */
export function singleLevel(rank: number, confirmReadings = 1, clearReadings = 1, holdMs = 0): MachineConfig {
  const bands: Array<{ raise: number; clear: number } | null> = [null, null, null, null];
  bands[rank] = { raise: 1, clear: 0.5 };
  return { bands, confirmReadings, confirmMs: 0, clearReadings, holdMs };
}
