/**
 * Water level from a downward-looking radar or ultrasonic sensor. The sensor measures the
 * distance from itself down to the water surface; the river stage above the gauge datum is
 * the height of the sensor above the datum minus that distance (SPEC §3.5 `dist_mm`; Geolux
 * LX-80 manual: the level register is this difference when the mount height is set in the
 * device, the distance register otherwise).
 */

export type LengthUnit = 'mm' | 'cm' | 'm';

const CM_PER: Record<LengthUnit, number> = { mm: 0.1, cm: 1, m: 100 };

/** Converts a length in `unit` to cm. */
export function toCm(value: number, unit: LengthUnit): number {
  return value * CM_PER[unit];
}

/**
 * Stage in cm above the datum: `sensorAboveDatumCm - distance`. A negative distance is not
 * physical (the radar saw something above itself): the caller's range check flags it through
 * the stage, which then exceeds the sensor's own height.
 */
export function stageFromDistanceCm(distance: number, unit: LengthUnit, sensorAboveDatumCm: number): number {
  return Number((sensorAboveDatumCm - toCm(distance, unit)).toFixed(6));
}
