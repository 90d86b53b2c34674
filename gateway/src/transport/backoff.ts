/**
 * Reconnect delays. Two flavours:
 * - `backoffDelayMs`: capped exponential, min, 2*min, 4*min, ... up to max (serial ports: one
 *   device, no crowd to spread).
 * - `fullJitterDelayMs`: the same cap with "full jitter" (a uniform draw between 0 and the capped
 *   exponential), as AWS's architecture blog "Exponential Backoff And Jitter" (Marc Brooker, 2015)
 *   recommends: when a broker comes back, the gateways of a whole district do not all reconnect in
 *   the same instant. A floor of `minMs / 2` keeps a broken link from being hammered in a tight loop.
 * `attempt` counts from 0 (the first retry after a loss).
 */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number): number {
  const exp = Math.min(Math.max(0, attempt), 30); // 2^30 * min already exceeds any sane max; avoids Infinity
  return Math.min(maxMs, minMs * 2 ** exp);
}

/** Full-jitter delay in [min/2, cap], where cap = min(max, min * 2^attempt). `random` returns [0, 1). */
export function fullJitterDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = backoffDelayMs(attempt, minMs, maxMs);
  const floor = Math.min(cap, minMs / 2);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(floor + (cap - floor) * r);
}
