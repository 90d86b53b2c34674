/**
 * Fixed bucket rings over event time, so a window of 1 h or 15 days costs the same memory
 * (`n` buckets) and O(1) amortised work per reading (advancing clears at most `n` buckets).
 * Approximation: the window is the last `n` buckets including the current, partly filled one,
 * so it spans between `windowMs - width` and `windowMs` (width = windowMs / n).
 */

export interface SumRing {
  /** Absolute index (floor(ts / width)) of the newest bucket; null before the first value. */
  head: number | null;
  sums: number[];
  total: number;
}

export function initialSumRing(n: number): SumRing {
  return { head: null, sums: new Array<number>(n).fill(0), total: 0 };
}

function advanceSum(r: SumRing, idx: number): void {
  const n = r.sums.length;
  if (r.head === null) {
    r.head = idx;
    return;
  }
  if (idx <= r.head) return;
  if (idx - r.head >= n) {
    r.sums.fill(0);
    r.total = 0;
  } else {
    for (let k = r.head + 1; k <= idx; k++) {
      const slot = ((k % n) + n) % n;
      r.total -= r.sums[slot]!;
      r.sums[slot] = 0;
    }
    // Float subtraction can leave dust below zero; a sum of non-negative amounts never is.
    if (r.total < 1e-9) r.total = 0;
  }
  r.head = idx;
}

/** Adds `value` at bucket index `idx` (idx >= head - n + 1; older values are dropped). */
export function addSum(r: SumRing, idx: number, value: number): void {
  advanceSum(r, idx);
  const n = r.sums.length;
  if (idx <= r.head! - n) return;
  const slot = ((idx % n) + n) % n;
  r.sums[slot] = r.sums[slot]! + value;
  r.total += value;
}

/** Window total as seen at bucket index `idx` (advances the ring). */
export function sumAt(r: SumRing, idx: number): number {
  advanceSum(r, idx);
  return r.total;
}

/** First (time, value) of each bucket: the reference points of a rate over the window. */
export interface FirstRing {
  head: number | null;
  /** Absolute index of the oldest non-empty bucket still in the ring (moves forward only). */
  oldest: number | null;
  ts: Array<number | null>;
  vals: Array<number | null>;
}

export function initialFirstRing(n: number): FirstRing {
  return { head: null, oldest: null, ts: new Array<number | null>(n).fill(null), vals: new Array<number | null>(n).fill(null) };
}

const slotOf = (k: number, n: number) => ((k % n) + n) % n;

/**
 * Records a reading at bucket `idx` (never older than the head: the detector feeds a
 * (sensor, quantity) in event-time order) and returns the oldest reference in the window.
 * The `oldest` pointer only moves forward, so finding the reference is amortised O(1).
 */
export function addFirst(r: FirstRing, idx: number, ts: number, value: number): { ts: number; value: number } | null {
  const n = r.ts.length;
  if (r.head === null || idx - r.head >= n) {
    r.ts.fill(null);
    r.vals.fill(null);
    r.oldest = null;
  } else {
    for (let k = r.head + 1; k <= idx; k++) {
      const slot = slotOf(k, n);
      r.ts[slot] = null;
      r.vals[slot] = null;
    }
  }
  if (r.head === null || idx > r.head) r.head = idx;
  const slot = slotOf(idx, n);
  if (r.ts[slot] === null) {
    r.ts[slot] = ts;
    r.vals[slot] = value;
  }
  let k = r.oldest === null || r.oldest <= r.head - n ? r.head - n + 1 : r.oldest;
  for (; k <= r.head; k++) {
    const s = slotOf(k, n);
    if (r.ts[s] !== null && r.ts[s] !== undefined) {
      r.oldest = k;
      return { ts: r.ts[s]!, value: r.vals[s]! };
    }
  }
  r.oldest = null;
  return null;
}
