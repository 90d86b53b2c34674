/**
 * Tipping-bucket rain gauge physics, the one place it lives (line sensors and Modbus counters
 * both use it). A gauge reports a cumulative tip counter (16-bit, wraps, restarts at 0 on boot);
 * the gateway publishes `rain` = mm fallen since the previous reading of that gauge.
 * Facts: 0.2 mm per tip is typical (0.1, 0.2794, 0.28 exist); at 100 mm/h a 0.2 mm gauge tips
 * every 7.2 s; tips < 1 s apart are contact bounce and are discarded (HOBO rule, Onset manual).
 */

/** Tip counters are 16-bit on the wire: they wrap from 65535 to 0. */
export const TIP_COUNTER_MODULO = 65536;
/**
 * A counter that falls is either a wrap (65535 -> 0) or a reset (sensor reboot without a HEL
 * we saw). We call it a wrap only when the forward distance is at most this many tips (200 mm
 * at 0.2 mm/tip between two readings, beyond any real storm); otherwise it is a reset and the
 * delta is the new counter value. Erring this way never invents rain: a reset mistaken for a
 * wrap could add up to 200 mm of false rain, so the bound is kept small.
 */
export const MAX_WRAP_TIPS = 1000;
/** Two real tips are never closer than this (HOBO rule); closer ones are bounce. The usual `minTipIntervalMs`. */
export const DEFAULT_MIN_TIP_INTERVAL_MS = 1000;
/**
 * Above this intensity a reading is physically implausible for the gauge and marked suspect
 * (not dropped). 300 mm/h is well above the BMKG "sangat lebat" class (> 20 mm/h) and above
 * one-hour records for Java; a short burst of a few tips over a minute can exceed it, which
 * is why it only flags.
 */
export const DEFAULT_MAX_INTENSITY_MM_PER_H = 300;

export type TipDelta =
  | { ok: true; tips: number; kind: 'baseline' | 'count' | 'wrap' | 'reset' }
  | { ok: false; reason: string };

/**
 * Tips fallen since the previous counter value of the same gauge.
 * - no previous value (first reading ever): establishes the baseline, 0 tips;
 * - counter >= previous: the difference;
 * - counter < previous: a wrap if the forward distance is small (see MAX_WRAP_TIPS), else a
 *   reset and the delta is the counter itself (tips since the reset). After a HEL the caller
 *   sets the previous value to 0, so the first reading after a reboot counts all its tips.
 */
export function tipDelta(previous: number | undefined, counter: number): TipDelta {
  if (!Number.isInteger(counter) || counter < 0 || counter >= TIP_COUNTER_MODULO) {
    return { ok: false, reason: `tip counter must be an integer 0..${TIP_COUNTER_MODULO - 1}` };
  }
  if (previous === undefined) return { ok: true, tips: 0, kind: 'baseline' };
  if (counter >= previous) return { ok: true, tips: counter - previous, kind: 'count' };
  const forward = counter + TIP_COUNTER_MODULO - previous;
  if (forward <= MAX_WRAP_TIPS) return { ok: true, tips: forward, kind: 'wrap' };
  return { ok: true, tips: counter, kind: 'reset' };
}

/**
 * Bounce filter on a counter delta: within `elapsedMs` at most elapsed / minTipIntervalMs
 * real tips (plus the one that may sit exactly at the start) can have happened; the rest are
 * contact bounce. Unknown elapsed time (first reading after a gateway start) or a reset
 * (the time since the device reboot is unknown) is not filtered.
 */
export function filterBounce(
  tips: number,
  elapsedMs: number | undefined,
  minTipIntervalMs: number = DEFAULT_MIN_TIP_INTERVAL_MS,
): { tips: number; bounced: number } {
  if (elapsedMs === undefined || !(elapsedMs >= 0) || minTipIntervalMs <= 0) return { tips, bounced: 0 };
  const max = Math.floor(elapsedMs / minTipIntervalMs) + 1;
  return tips > max ? { tips: max, bounced: tips - max } : { tips, bounced: 0 };
}

/** Rain depth of `tips` tips, mm, with binary noise rounded away (0.2 * 3 = 0.6000000000000001). */
export function tipsToMm(tips: number, mmPerTip: number): number {
  return Number((tips * mmPerTip).toFixed(6));
}

/** Intensity in mm/h of `mm` fallen over `elapsedMs`; null when the interval is unknown or zero. */
export function rainIntensityMmPerH(mm: number, elapsedMs: number | undefined): number | null {
  if (elapsedMs === undefined || !(elapsedMs > 0)) return null;
  return (mm * 3_600_000) / elapsedMs;
}
