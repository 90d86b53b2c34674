import { describe, expect, it } from 'vitest';
import { backoffDelayMs, fullJitterDelayMs } from '../../src/transport/backoff.ts';

describe('reconnect delays', () => {
  it('capped exponential: min, 2×min, 4×min … max, also for absurd attempts', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(backoffDelayMs(1e9, 1000, 30_000)).toBe(30_000);
    expect(backoffDelayMs(-3, 1000, 30_000)).toBe(1000);
  });

  it('full jitter: uniform between min/2 and the capped exponential', () => {
    expect(fullJitterDelayMs(0, 1000, 60_000, () => 0)).toBe(500);
    expect(fullJitterDelayMs(0, 1000, 60_000, () => 0.999999)).toBe(1000);
    expect(fullJitterDelayMs(3, 1000, 60_000, () => 0.5)).toBe(4250);
    expect(fullJitterDelayMs(20, 1000, 60_000, () => 0.999999)).toBe(60_000);
    // A random source outside [0, 1) cannot push the delay outside its bounds.
    expect(fullJitterDelayMs(2, 1000, 60_000, () => 7)).toBe(4000);
    expect(fullJitterDelayMs(2, 1000, 60_000, () => -1)).toBe(500);
  });

  it('spreads a crowd: 1000 gateways reconnecting at attempt 5 do not pick the same instant', () => {
    const delays = Array.from({ length: 1000 }, () => fullJitterDelayMs(5, 1000, 60_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(32_000);
    expect(new Set(delays.map((d) => Math.floor(d / 1000))).size).toBeGreaterThan(20);
  });
});
