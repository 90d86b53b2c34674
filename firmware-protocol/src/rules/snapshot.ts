/**
 * Restoring detector state from an untrusted snapshot (a file, a database row, a hand edit).
 * Every piece is checked against the shape of a fresh state; what does not fit starts fresh
 * (and is reported), nothing throws.
 */
import { QUANTITIES, QUANTITY_UNITS } from '../quantities.ts';
import type { RuleReading } from './detector-contract.ts';

export const SNAPSHOT_VERSION = 1;

/**
 * True when `raw` has the shape of `fresh`: same keys, same array lengths, numbers finite,
 * and `null` in the fresh state accepting a finite number or null.
 */
export function sameShape(fresh: unknown, raw: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  if (fresh === null) return raw === null || (typeof raw === 'number' && Number.isFinite(raw));
  if (typeof fresh === 'number') return typeof raw === 'number' && Number.isFinite(raw);
  if (typeof fresh === 'boolean') return typeof raw === 'boolean';
  if (typeof fresh === 'string') return typeof raw === 'string';
  if (Array.isArray(fresh)) {
    if (!Array.isArray(raw) || raw.length !== fresh.length) return false;
    for (let i = 0; i < fresh.length; i++) if (!sameShape(fresh[i], raw[i], depth + 1)) return false;
    return true;
  }
  if (typeof fresh === 'object') {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return false;
    const fk = Object.keys(fresh as object);
    const rk = Object.keys(raw as object);
    if (fk.length !== rk.length) return false;
    for (const k of fk) {
      if (!Object.hasOwn(raw as object, k)) return false;
      if (!sameShape((fresh as Record<string, unknown>)[k], (raw as Record<string, unknown>)[k], depth + 1)) return false;
    }
    return true;
  }
  return false;
}

/** A reading waiting in a sensor's reorder buffer (short keys: snapshots hold many). */
export interface Buffered {
  q: string;
  v: number;
  t: number;
  g: boolean;
}

export interface SensorClock {
  /** Newest event time seen for the sensor (the watermark); null before the first. */
  wm: number | null;
  /** Newest evaluated event time per quantity (duplicates and replays are not counted twice). */
  last: Record<string, number>;
  buf: Buffered[];
  /** Per quantity: event times taken in within the lateness horizon, ascending (late duplicates). */
  seen: Record<string, number[]>;
}

const QSET = new Set<string>(QUANTITIES);

export function parseSensorClock(raw: unknown, maxBuffer: number): SensorClock | null {
  if (raw === null || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const wm = r['wm'];
  if (!(wm === null || (typeof wm === 'number' && Number.isFinite(wm)))) return null;
  const lastRaw = r['last'];
  if (lastRaw === null || typeof lastRaw !== 'object' || Array.isArray(lastRaw)) return null;
  const last: Record<string, number> = {};
  for (const [k, v] of Object.entries(lastRaw)) {
    if (!QSET.has(k) || typeof v !== 'number' || !Number.isFinite(v)) return null;
    last[k] = v;
  }
  const bufRaw = r['buf'];
  if (!Array.isArray(bufRaw) || bufRaw.length > maxBuffer) return null;
  const buf: Buffered[] = [];
  for (const b of bufRaw) {
    if (b === null || typeof b !== 'object') return null;
    const { q, v, t, g } = b as Record<string, unknown>;
    if (typeof q !== 'string' || !QSET.has(q) || typeof v !== 'number' || !Number.isFinite(v)) return null;
    if (typeof t !== 'number' || !Number.isFinite(t) || typeof g !== 'boolean') return null;
    buf.push({ q, v, t, g });
  }
  const seenRaw = r['seen'];
  if (seenRaw === null || typeof seenRaw !== 'object' || Array.isArray(seenRaw)) return null;
  const seen: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(seenRaw)) {
    if (!QSET.has(k) || !Array.isArray(v) || v.length > maxBuffer) return null;
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'number' || !Number.isFinite(v[i]) || (i > 0 && v[i] <= v[i - 1])) return null;
    }
    seen[k] = v as number[];
  }
  return { wm, last, buf, seen };
}

/** A reading the detector can judge: object, known quantity, finite value and time. */
export function isUsable(r: unknown): r is RuleReading {
  if (r === null || typeof r !== 'object') return false;
  const x = r as Record<string, unknown>;
  return (
    typeof x['sensorId'] === 'string' &&
    typeof x['quantity'] === 'string' &&
    Object.hasOwn(QUANTITY_UNITS, x['quantity']) &&
    typeof x['value'] === 'number' &&
    Number.isFinite(x['value']) &&
    typeof x['tsMs'] === 'number' &&
    Number.isFinite(x['tsMs'])
  );
}

export interface RawSnapshot {
  clock: unknown;
  rules: Record<string, unknown>;
  sensors: Record<string, unknown>;
}

export function readSnapshot(raw: unknown): RawSnapshot | null {
  if (raw === null || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const rules = r['rules'];
  const sensors = r['sensors'];
  if (r['v'] !== SNAPSHOT_VERSION || !isRecord(rules) || !isRecord(sensors)) return null;
  return { clock: r['clock'], rules, sensors };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}
