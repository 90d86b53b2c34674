/**
 * The physical quantities Kentongan carries after calibration, each with its one unit.
 * Units are fixed per quantity so that a value is never stored with a unit mix-up; the
 * gateway converts raw sensor channels into these (see SPEC.md §4).
 */
export const QUANTITY_UNITS = {
  /** Rain fallen since the previous reading of the same gauge (not a cumulative counter). */
  rain: 'mm',
  /** River stage above the gauge datum. */
  water_level: 'cm',
  /** Cumulative wire-extensometer displacement since installation. */
  displacement: 'mm',
  tilt_x: 'deg',
  tilt_y: 'deg',
  battery_voltage: 'V',
  temperature: 'degC',
} as const;

export type Quantity = keyof typeof QUANTITY_UNITS;
export type Unit = (typeof QUANTITY_UNITS)[Quantity];
export const QUANTITIES = Object.keys(QUANTITY_UNITS) as Quantity[];

export function unitOf(quantity: Quantity): Unit {
  return QUANTITY_UNITS[quantity];
}
