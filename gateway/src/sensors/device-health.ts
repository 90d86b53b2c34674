/**
 * Device health values that have no MQTT quantity of their own (firmware-protocol SPEC §3.5:
 * `solar_v` is "health only"; tamper is a switch): the gateway keeps the latest per device,
 * shows it in stats and logs a tamper change. Battery voltage and enclosure temperature are
 * quantities (`battery_voltage`, `temperature`) and go through the queue like any reading.
 * Batteries and solar panels get stolen and batteries are the main failure of deployed early
 * warning systems (BPBD field lessons): the values are kept visible, out-of-range flagged.
 */

export const HEALTH_KINDS = ['solar_voltage', 'tamper'] as const;
export type HealthKind = (typeof HEALTH_KINDS)[number];

/** Solar panel open-circuit voltage of a 12 V-class panel stays below this; 0 at night is normal. */
export const SOLAR_VOLTAGE_RANGE = { min: 0, max: 50 } as const;

export interface HealthValue {
  kind: HealthKind;
  value: number;
  quality: 'good' | 'suspect';
}

/**
 * Interprets a health value. Tamper: any non-zero value means the enclosure is open (a switch
 * register or input); the value becomes 1 or 0. Solar: volts, range-checked.
 */
export function healthValue(kind: HealthKind, value: number): HealthValue | null {
  if (!Number.isFinite(value)) return null;
  if (kind === 'tamper') return { kind, value: value !== 0 ? 1 : 0, quality: 'good' };
  const suspect = value < SOLAR_VOLTAGE_RANGE.min || value > SOLAR_VOLTAGE_RANGE.max;
  return { kind, value, quality: suspect ? 'suspect' : 'good' };
}
