import { describe, expect, it } from 'vitest';
import { channelSchema } from '../../src/config/schema.ts';
import { calibrate } from '../../src/sensors/physics.ts';
import { filterBounce, rainIntensityMmPerH, tipsToMm } from '../../src/sensors/rain.ts';
import { DEFAULT_PHYSICAL_RANGES, rangeQuality } from '../../src/sensors/ranges.ts';
import { stageFromDistanceCm } from '../../src/sensors/water-level.ts';
import { healthValue } from '../../src/sensors/device-health.ts';

const ch = (input: unknown) => channelSchema.parse(input);

describe('water level', () => {
  it('stage = sensor height above datum − distance to water, in any length unit', () => {
    expect(stageFromDistanceCm(4200, 'mm', 600)).toBe(180);
    expect(stageFromDistanceCm(4.2, 'm', 600)).toBe(180);
    const radar = ch({ quantity: 'water_level', distanceToWater: { sensorAboveDatumCm: 600 } });
    expect(calibrate(4200, radar)).toEqual({ ok: true, value: 180, quality: 'good' });
  });

  it('flags a stage outside the configured range suspect, keeping the value', () => {
    const radar = ch({ quantity: 'water_level', distanceToWater: { sensorAboveDatumCm: 600, unit: 'mm' }, range: { min: -50, max: 590 } });
    expect(calibrate(-100, radar)).toEqual({ ok: true, value: 610, quality: 'suspect' }); // a target above the radar
  });

  it('refuses distanceToWater on another quantity', () => {
    expect(() => ch({ quantity: 'rain', distanceToWater: { sensorAboveDatumCm: 1 } })).toThrow(/distance to water gives a water level/);
  });
});

describe('tipping-bucket rain', () => {
  it('turns tips into mm without binary noise and computes intensity', () => {
    expect(tipsToMm(3, 0.2)).toBe(0.6);
    expect(rainIntensityMmPerH(10, 30 * 60_000)).toBe(20);
    expect(rainIntensityMmPerH(10, 0)).toBeNull();
    expect(rainIntensityMmPerH(10, undefined)).toBeNull();
  });

  it('bounce filter: at most one tip per minTipIntervalMs (plus one), the rest discarded and reported', () => {
    expect(filterBounce(5, 10_000, 1000)).toEqual({ tips: 5, bounced: 0 });
    expect(filterBounce(30, 10_000, 1000)).toEqual({ tips: 11, bounced: 19 });
    expect(filterBounce(30, undefined, 1000)).toEqual({ tips: 30, bounced: 0 });
    const gauge = ch({ quantity: 'rain', tippingBucket: { mmPerTip: 0.2, minTipIntervalMs: 1000 } });
    expect(calibrate(130, gauge, 100, { elapsedMs: 10_000 })).toEqual({ ok: true, value: 2.2, quality: 'suspect', counter: 130, bounced: 19 });
  });

  it('does not filter without a configured interval, nor when the clock stood still, nor after a reset', () => {
    const plain = ch({ quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } });
    const unfiltered = calibrate(130, plain, 100, { elapsedMs: 600_000 });
    expect(unfiltered).toEqual({ ok: true, value: 6, quality: 'good', counter: 130 });
    const filtered = ch({ quantity: 'rain', tippingBucket: { mmPerTip: 0.2, minTipIntervalMs: 1000 } });
    expect(calibrate(130, filtered, 100, { elapsedMs: 0 })).toMatchObject({ value: 6, quality: 'good' });
    expect(calibrate(500, filtered, 40_000, { elapsedMs: 1000 })).toMatchObject({ value: 100, quality: 'good' }); // reset: 500 tips since boot
  });

  it('flags an implausible intensity suspect but keeps the rain', () => {
    const gauge = ch({ quantity: 'rain', tippingBucket: { mmPerTip: 0.2, maxIntensityMmPerH: 100 } });
    expect(calibrate(110, gauge, 100, { elapsedMs: 60_000 })).toEqual({ ok: true, value: 2, quality: 'suspect', counter: 110 }); // 120 mm/h
    expect(calibrate(105, gauge, 100, { elapsedMs: 60_000 })).toEqual({ ok: true, value: 1, quality: 'good', counter: 105 }); // 60 mm/h
  });

  it('counter wrap and reset follow the existing rule (moved, not duplicated)', () => {
    const gauge = ch({ quantity: 'rain', tippingBucket: { mmPerTip: 0.5 } });
    expect(calibrate(3, gauge, 65534)).toMatchObject({ value: 2.5, counter: 3 });
    expect(calibrate(70_000, gauge, 1)).toEqual({ ok: false, code: 'bad_counter' });
  });
});

describe('extensometer, tiltmeter, device health: linear with physical ranges', () => {
  it('uses the default physical range of the quantity when none is configured', () => {
    expect(calibrate(12.34, ch({ quantity: 'displacement' }))).toEqual({ ok: true, value: 12.34, quality: 'good' });
    expect(calibrate(95, ch({ quantity: 'tilt_x' }))).toMatchObject({ quality: 'suspect' });
    expect(calibrate(-0.5, ch({ quantity: 'tilt_y' }))).toMatchObject({ quality: 'good' });
    expect(calibrate(12400, ch({ quantity: 'battery_voltage', scale: 0.001 }))).toMatchObject({ value: 12.4, quality: 'good' });
    expect(calibrate(-1, ch({ quantity: 'battery_voltage' }))).toMatchObject({ quality: 'suspect' });
    expect(calibrate(1200, ch({ quantity: 'temperature', scale: 0.1 }))).toMatchObject({ quality: 'suspect' });
    expect(rangeQuality('water_level', DEFAULT_PHYSICAL_RANGES.water_level.max + 1)).toBe('suspect');
  });

  it('a configured range wins over the default', () => {
    expect(calibrate(60, ch({ quantity: 'tilt_x', range: { min: -45, max: 45 } }))).toMatchObject({ quality: 'suspect' });
    expect(calibrate(100, ch({ quantity: 'temperature', range: { min: -50, max: 150 } }))).toMatchObject({ quality: 'good' });
  });

  it('refuses non-finite results (NaN float registers, overflow)', () => {
    expect(calibrate(Number.NaN, ch({ quantity: 'tilt_x' }))).toEqual({ ok: false, code: 'bad_value' });
    expect(calibrate(Number.POSITIVE_INFINITY, ch({ quantity: 'displacement' }))).toEqual({ ok: false, code: 'bad_value' });
  });

  it('health-only values: solar voltage range-checked, tamper as 0/1, NaN refused', () => {
    expect(healthValue('solar_voltage', 18.2)).toEqual({ kind: 'solar_voltage', value: 18.2, quality: 'good' });
    expect(healthValue('solar_voltage', 75)).toMatchObject({ quality: 'suspect' });
    expect(healthValue('tamper', 7)).toEqual({ kind: 'tamper', value: 1, quality: 'good' });
    expect(healthValue('tamper', 0)).toMatchObject({ value: 0 });
    expect(healthValue('solar_voltage', Number.NaN)).toBeNull();
  });
});
