/**
 * Physical range checks. A value outside its range is kept and published with
 * `quality: 'suspect'` (a sensor fault is a technician matter and the value is evidence),
 * never dropped. A range configured per channel/value wins over the defaults below, which are
 * the widest plausible values for the kind of instrument, not alert thresholds.
 */
import type { Quantity } from '@kentongan/firmware-protocol';

export interface PhysicalRange {
  min: number;
  max: number;
}

/**
 * Defaults per quantity, each with its basis:
 * - rain (mm per reading): never negative;
 * - water_level (cm above datum): -10 m .. 100 m stage, far outside any river gauge (Manggarai
 *   Siaga 1 is 950 cm) yet catching a radar that reads its own mounting bracket or nothing;
 * - displacement (mm): ±10 m of wire, longer than any field extensometer;
 * - tilt (deg): an inclination is within ±90°;
 * - battery_voltage (V): 0..60, a 12 V or 24 V lead-acid/LiFePO4 system with margin;
 * - temperature (°C): -40..85, the industrial rating of the electronics.
 */
export const DEFAULT_PHYSICAL_RANGES: Readonly<Record<Quantity, PhysicalRange>> = {
  rain: { min: 0, max: Number.POSITIVE_INFINITY },
  water_level: { min: -1000, max: 10_000 },
  displacement: { min: -10_000, max: 10_000 },
  tilt_x: { min: -90, max: 90 },
  tilt_y: { min: -90, max: 90 },
  battery_voltage: { min: 0, max: 60 },
  temperature: { min: -40, max: 85 },
};

/** 'suspect' when outside the configured range, else outside the default range of the quantity. */
export function rangeQuality(quantity: Quantity, value: number, configured?: PhysicalRange): 'good' | 'suspect' {
  const r = configured ?? DEFAULT_PHYSICAL_RANGES[quantity];
  return value < r.min || value > r.max ? 'suspect' : 'good';
}
