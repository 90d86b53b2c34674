/** Capped exponential back-off: min, 2*min, 4*min, ... up to max. `attempt` counts from 0. */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number): number {
  const exp = Math.min(attempt, 30); // 2^30 * min already exceeds any sane max; avoids Infinity
  return Math.min(maxMs, minMs * 2 ** exp);
}
