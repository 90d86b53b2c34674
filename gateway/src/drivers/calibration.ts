/**
 * Calibration: raw channel value -> physical quantity in its one unit (QUANTITY_UNITS).
 * Pure functions; the caller supplies and stores the tipping-bucket state.
 */
import type { ChannelConfig } from '../config/schema.ts';

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

export type Calibrated =
  | { ok: true; value: number; quality: 'good' | 'suspect'; counter?: number }
  | { ok: false; code: 'bad_counter' | 'bad_value' };

/**
 * Calibrates one channel value. For a tipping bucket, `previousCounter` is the gauge's last
 * counter and the result's `counter` is the value to store for next time.
 */
export function calibrate(raw: number, channel: ChannelConfig, previousCounter?: number): Calibrated {
  let value: number;
  let counter: number | undefined;
  if (channel.tippingBucket) {
    const delta = tipDelta(previousCounter, raw);
    if (!delta.ok) return { ok: false, code: 'bad_counter' };
    // Round away binary noise (0.2 * 3 = 0.6000000000000001); a micrometre is far below any gauge.
    value = Number((delta.tips * channel.tippingBucket.mmPerTip).toFixed(6));
    counter = raw;
  } else {
    value = raw * channel.scale + channel.offset;
  }
  if (!Number.isFinite(value)) return { ok: false, code: 'bad_value' };
  const range = channel.range;
  const quality = range && (value < range.min || value > range.max) ? 'suspect' : 'good';
  return counter === undefined ? { ok: true, value, quality } : { ok: true, value, quality, counter };
}
