/**
 * Raw value -> physical quantity in its one unit (QUANTITY_UNITS), for every sensor kind, used
 * by line sensors and Modbus values alike. Pure: the caller keeps and stores the state (the
 * previous tip counter and when it was seen).
 *
 * | kind | transform | check |
 * |---|---|---|
 * | tipping-bucket rain | Δcounter (wrap/reset, rain.ts) → bounce filter (when minTipIntervalMs is set) → × mmPerTip | intensity ≤ maxIntensityMmPerH |
 * | water level, stage given | raw × scale + offset (cm) | range |
 * | water level, distance to water | sensorAboveDatumCm − (raw × scale + offset) in `unit` | range |
 * | wire extensometer | raw × scale + offset (mm; offset = reading at installation, negated) | range |
 * | tiltmeter x / y | raw × scale + offset (deg) | range (default ±90) |
 * | battery, enclosure temperature | raw × scale + offset (V, °C) | range |
 */
import type { Quantity } from '@kentongan/firmware-protocol';
import {
  DEFAULT_MAX_INTENSITY_MM_PER_H,
  filterBounce,
  rainIntensityMmPerH,
  tipDelta,
  tipsToMm,
} from './rain.ts';
import { rangeQuality, type PhysicalRange } from './ranges.ts';
import { stageFromDistanceCm, type LengthUnit } from './water-level.ts';

/** What physics needs to know about a channel or Modbus value (a subset of both configs). */
export interface PhysicsConfig {
  quantity: Quantity;
  scale: number;
  offset: number;
  range?: PhysicalRange | undefined;
  tippingBucket?: { mmPerTip: number; minTipIntervalMs?: number | undefined; maxIntensityMmPerH?: number | undefined } | undefined;
  distanceToWater?: { sensorAboveDatumCm: number; unit: LengthUnit } | undefined;
}

/** Tipping-bucket state the caller supplies: the previous counter and how long ago it was read. */
export interface PhysicsContext {
  /** Milliseconds since the previous reading of this gauge, when known (bounce filter, intensity). */
  elapsedMs?: number | undefined;
}

export type Calibrated =
  | {
      ok: true;
      value: number;
      quality: 'good' | 'suspect';
      /** Tipping bucket: the counter to store for next time. */
      counter?: number;
      /** Tipping bucket: tips discarded as contact bounce. */
      bounced?: number;
    }
  | { ok: false; code: 'bad_counter' | 'bad_value' };

/**
 * Calibrates one raw value. For a tipping bucket, `previousCounter` is the gauge's last counter
 * and the result's `counter` is the value to store for next time.
 */
export function calibrate(raw: number, channel: PhysicsConfig, previousCounter?: number, ctx: PhysicsContext = {}): Calibrated {
  if (channel.tippingBucket) return rain(raw, channel, channel.tippingBucket, previousCounter, ctx);
  let value = raw * channel.scale + channel.offset;
  if (channel.distanceToWater) {
    value = stageFromDistanceCm(value, channel.distanceToWater.unit, channel.distanceToWater.sensorAboveDatumCm);
  }
  if (!Number.isFinite(value)) return { ok: false, code: 'bad_value' };
  // 12 significant digits drop binary noise (312 × 0.1 = 31.200000000000003), far below any sensor's resolution.
  value = Number(value.toPrecision(12));
  return { ok: true, value, quality: rangeQuality(channel.quantity, value, channel.range) };
}

function rain(
  raw: number,
  channel: PhysicsConfig,
  bucket: NonNullable<PhysicsConfig['tippingBucket']>,
  previousCounter: number | undefined,
  ctx: PhysicsContext,
): Calibrated {
  const delta = tipDelta(previousCounter, raw);
  if (!delta.ok) return { ok: false, code: 'bad_counter' };
  // A reset's tips fell since an unknown boot time: the elapsed time says nothing about them.
  const elapsed = delta.kind === 'reset' ? undefined : ctx.elapsedMs;
  // Opt-in: counters are debounced in firmware (SPEC §3.5); the gateway's cap is a second line for
  // gauges known to bounce. A clock that stood still or went back (elapsed <= 0) never caps.
  const { tips, bounced } =
    bucket.minTipIntervalMs !== undefined && elapsed !== undefined && elapsed > 0
      ? filterBounce(delta.tips, elapsed, bucket.minTipIntervalMs)
      : { tips: delta.tips, bounced: 0 };
  const value = tipsToMm(tips, bucket.mmPerTip);
  if (!Number.isFinite(value)) return { ok: false, code: 'bad_value' };
  const intensity = rainIntensityMmPerH(value, elapsed);
  const tooIntense = intensity !== null && intensity > (bucket.maxIntensityMmPerH ?? DEFAULT_MAX_INTENSITY_MM_PER_H);
  const quality = tooIntense || bounced > 0 ? 'suspect' : rangeQuality(channel.quantity, value, channel.range);
  return bounced > 0 ? { ok: true, value, quality, counter: raw, bounced } : { ok: true, value, quality, counter: raw };
}
