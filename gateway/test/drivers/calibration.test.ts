import { describe, expect, it } from 'vitest';
import { channelSchema } from '../../src/config/schema.ts';
import { MAX_WRAP_TIPS, TIP_COUNTER_MODULO, calibrate, tipDelta } from '../../src/drivers/calibration.ts';

const channel = (input: unknown) => channelSchema.parse(input);

describe('linear calibration', () => {
  it('applies value * scale + offset', () => {
    expect(calibrate(250, channel({ quantity: 'water_level', scale: 0.1, offset: -5 }))).toEqual({ ok: true, value: 20, quality: 'good' });
    expect(calibrate(3.3, channel({ quantity: 'battery_voltage' }))).toEqual({ ok: true, value: 3.3, quality: 'good' });
  });

  it('keeps a value outside the range but flags it suspect', () => {
    const ch = channel({ quantity: 'water_level', range: { min: -50, max: 2000 } });
    expect(calibrate(2500, ch)).toMatchObject({ ok: true, value: 2500, quality: 'suspect' });
    expect(calibrate(-51, ch)).toMatchObject({ quality: 'suspect' });
    expect(calibrate(2000, ch)).toMatchObject({ quality: 'good' });
  });

  it('refuses a result that is not finite', () => {
    const ch = channel({ quantity: 'water_level', scale: 1e300 });
    expect(calibrate(1e300, ch)).toEqual({ ok: false, code: 'bad_value' });
  });
});

describe('tipping bucket', () => {
  const gauge = channel({ quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } });

  it('first reading ever establishes the baseline: 0 mm', () => {
    expect(tipDelta(undefined, 1234)).toEqual({ ok: true, tips: 0, kind: 'baseline' });
    expect(calibrate(1234, gauge, undefined)).toEqual({ ok: true, value: 0, quality: 'good', counter: 1234 });
  });

  it('publishes the tips since the previous reading times mm per tip, without binary noise', () => {
    expect(calibrate(13, gauge, 10)).toEqual({ ok: true, value: 0.6, quality: 'good', counter: 13 });
    expect(calibrate(10, gauge, 10)).toMatchObject({ value: 0 });
  });

  it('treats a fall near the top of the counter as a wrap', () => {
    expect(tipDelta(65534, 3)).toEqual({ ok: true, tips: 5, kind: 'wrap' });
    expect(calibrate(3, gauge, 65534)).toMatchObject({ value: 1 });
    expect(tipDelta(TIP_COUNTER_MODULO - MAX_WRAP_TIPS, 0)).toMatchObject({ kind: 'wrap', tips: MAX_WRAP_TIPS });
  });

  it('treats any other fall as a reset: the delta is the new counter value', () => {
    expect(tipDelta(500, 7)).toEqual({ ok: true, tips: 7, kind: 'reset' });
    expect(tipDelta(50_000, 3)).toEqual({ ok: true, tips: 3, kind: 'reset' });
    expect(tipDelta(TIP_COUNTER_MODULO - MAX_WRAP_TIPS, 1)).toMatchObject({ kind: 'reset', tips: 1 });
    // After a HEL the driver stores 0 as the previous counter: every tip since boot counts.
    expect(calibrate(4, gauge, 0)).toMatchObject({ value: 0.8, counter: 4 });
  });

  it('refuses counters that are not 16-bit unsigned integers', () => {
    for (const bad of [-1, 1.5, 65536, 1e9]) {
      expect(tipDelta(0, bad).ok).toBe(false);
      expect(calibrate(bad, gauge, 0)).toEqual({ ok: false, code: 'bad_counter' });
    }
  });
});
