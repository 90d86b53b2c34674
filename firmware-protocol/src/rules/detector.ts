/**
 * `createDetector`: the incremental evaluator of a rule set (contract: detector-contract.ts).
 *
 * Event time: each sensor has a watermark (newest event time seen). Readings of one `apply`
 * call are sorted by event time first, so a backlog delivered at once is evaluated in its own
 * order. A reading newer than the last judged one of its (sensor, quantity) is judged at once.
 * - `allowedLatenessMs` (no added latency): a reading behind that, but within the lateness of
 *   the watermark, is taken into the windows that can use it (rain sums, the open step, the
 *   open rain event) and judged with the next reading; level kinds do not re-judge the past.
 *   Older readings, and repeats of a (sensor, quantity, tsMs) already taken in, are `late`.
 * - `reorderMs` (adds that much latency): readings wait in a small per-sensor buffer until the
 *   watermark (or a tick) passes `tsMs + reorderMs`, then are judged oldest first, so
 *   out-of-order delivery within it gives exactly the in-order changes.
 * Details and reasons: docs/DETECTION.md.
 */
import { LEVELS, type Level } from '../levels.ts';
import { QUANTITY_UNITS, type Quantity } from '../quantities.ts';
import type { Detector, DetectorSkips, RuleChange, RuleReading } from './detector-contract.ts';
import { compileRule, freshKindState, type Entry } from './compile.ts';
import { initialMachine, machineFits, stepMachine, type Step } from './level-machine.ts';
import { compositeOrder } from './problems.ts';
import type { Rule } from './schema.ts';
import { isUsable, parseSensorClock, readSnapshot, sameShape, SNAPSHOT_VERSION, type Buffered, type SensorClock } from './snapshot.ts';
import { compositeEvidence, deadmanEvidence } from './evidence.ts';

export { audienceOf } from './compile.ts';

export interface DetectorOptions {
  /**
   * How far behind a sensor's watermark a reading may arrive and still be used (ms, default 0):
   * windowed kinds take it in without delaying anything; older readings are skipped as late.
   */
  allowedLatenessMs?: number;
  /**
   * Reorder buffer (ms, default 0): readings are held this long of event time and judged in
   * event-time order, so disorder within it changes nothing. Adds this much detection latency.
   */
  reorderMs?: number;
  /** Most readings a sensor's reorder buffer holds; beyond, the oldest is evaluated at once (default 10,000). */
  maxBufferPerSensor?: number;
}

/** What became of the snapshot given to `createDetector` (never an exception). */
export interface DetectorRestore {
  snapshotGiven: boolean;
  /** False when a snapshot was given but was not one of ours (wrong version, not an object...). */
  snapshotValid: boolean;
  /** Rules that start fresh: missing from the snapshot, changed since, or with unusable state. */
  freshRuleIds: string[];
  /** Rules this detector cannot run: unknown kind, duplicate id, composite with unknown rules or in a cycle. */
  ignoredRuleIds: string[];
}

export interface RuleDetector extends Detector {
  readonly restore: DetectorRestore;
}

interface SensorEntry {
  byQuantity: Map<string, Entry[]>;
  deadmen: Entry[];
  clock: SensorClock;
}

export function createDetector(rules: readonly Rule[], snapshot?: unknown, options: DetectorOptions = {}): RuleDetector {
  const nonNegative = (x: number | undefined) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0);
  const reorder = nonNegative(options.reorderMs);
  // Anything older than this behind the watermark is late, whichever option asked for it.
  const horizon = Math.max(nonNegative(options.allowedLatenessMs), reorder);
  const maxBuffer = Math.max(1, Math.min(options.maxBufferPerSensor ?? 10_000, 1_000_000));
  const restore: DetectorRestore = { snapshotGiven: snapshot !== undefined, snapshotValid: true, freshRuleIds: [], ignoredRuleIds: [] };
  const snap = readSnapshot(snapshot);
  if (snapshot !== undefined && snap === null) restore.snapshotValid = false;

  const entries = new Map<string, Entry>();
  for (const rule of rules) {
    let e: Entry | null = null;
    try {
      e = rule && typeof rule === 'object' && !entries.has(rule.id) ? compileRule(rule, initialMachine) : null;
    } catch {
      // A rule object that did not come through ruleSchema (missing fields): not runnable.
      e = null;
    }
    if (!e) {
      restore.ignoredRuleIds.push(String((rule as { id?: unknown })?.id));
      continue;
    }
    entries.set(e.id, e);
  }
  const kept = [...entries.values()].map((e) => (e.type === 'composite' ? e.rule : ({ id: e.id, kind: 'threshold' } as Rule)));
  const composites = compositeOrder(kept).map((id) => entries.get(id)!);
  for (const e of entries.values()) {
    if (e.type === 'composite' && !composites.includes(e)) restore.ignoredRuleIds.push(e.id);
  }
  for (const e of entries.values()) {
    const raw = snap?.rules[e.id] as { fp?: unknown; m?: unknown; k?: unknown } | undefined;
    if (raw && raw.fp === e.fingerprint && sameShape(e.m, raw.m) && sameShape(freshKindState(e), raw.k) && machineFits(e.cfg, raw.m as never)) {
      e.m = raw.m as typeof e.m;
      (e as { k: unknown }).k = raw.k;
    } else if (snap !== null || snapshot !== undefined) restore.freshRuleIds.push(e.id);
  }

  const sensors = new Map<string, SensorEntry>();
  const sensorOf = (id: string): SensorEntry => {
    let s = sensors.get(id);
    if (!s) {
      const clock = parseSensorClock(snap?.sensors[id], maxBuffer) ?? { wm: null, last: {}, buf: [], seen: {} };
      s = { byQuantity: new Map(), deadmen: [], clock };
      sensors.set(id, s);
    }
    return s;
  };
  for (const e of entries.values()) {
    if (e.type === 'reading') {
      const s = sensorOf(e.ev.sensorId);
      const q = e.ev.quantity!;
      s.byQuantity.set(q, [...(s.byQuantity.get(q) ?? []), e]);
    } else if (e.type === 'deadman') sensorOf(e.rule.sensorId).deadmen.push(e);
  }
  let clockMs: number | null = typeof snap?.clock === 'number' && Number.isFinite(snap.clock) ? snap.clock : null;
  const skips: DetectorSkips = { notApplicable: 0, late: 0, suspect: 0, invalid: 0 };

  /** Collects a change unless the rule is a silent building block (`announce: false`). */
  const emit = (out: RuleChange[], c: RuleChange, e: Entry): void => {
    if (e.announce) out.push(c);
  };

  const change = (e: Entry, step: Step, atMs: number, evidence: RuleChange['evidence']): RuleChange => ({
    ruleId: e.id,
    hazard: e.hazard,
    audience: e.audience,
    kind: step.to > step.from ? 'escalated' : 'deescalated',
    from: LEVELS[step.from]!,
    to: LEVELS[step.to]!,
    atMs,
    evidence,
  });

  const runComposites = (atMs: number, sensorId: string, out: RuleChange[]): void => {
    for (const e of composites) {
      if (e.type !== 'composite') continue;
      const met = e.rule.conditions.map((c) => {
        const child = entries.get(c.ruleId)!;
        const rank = LEVELS.indexOf(c.minLevel);
        const left = child.m.left[rank];
        return child.m.lv >= rank || (left !== null && left !== undefined && atMs - left <= e.rule.alignMs);
      });
      const ok = e.rule.mode === 'all' ? met.every(Boolean) : met.some(Boolean);
      const step = stepMachine(e.cfg, e.m, ok ? 1 : 0, atMs);
      if (step) emit(out, change(e, step, atMs, compositeEvidence(e.rule, met, sensorId, atMs, step.to > step.from)), e);
    }
  };

  const runDeadman = (e: Entry, nowMs: number, sensorId: string, out: RuleChange[]): boolean => {
    if (e.type !== 'deadman') return false;
    const since = e.k.last ?? (e.k.base ??= nowMs);
    const silentMs = nowMs - since;
    const step = stepMachine(e.cfg, e.m, silentMs >= e.rule.timeoutMs ? 1 : 0, nowMs);
    if (!step) return false;
    emit(out, change(e, step, nowMs, deadmanEvidence(e.rule, sensorId, silentMs, nowMs, step.to > step.from)), e);
    return true;
  };

  /** Remembers an event time taken in, for late duplicates (only when there is a horizon). */
  const remember = (c: SensorClock, q: string, t: number): void => {
    if (horizon === 0) return;
    const list = (c.seen[q] ??= []);
    let i = list.length;
    while (i > 0 && list[i - 1]! > t) i--;
    list.splice(i, 0, t);
    const oldest = (c.wm ?? t) - horizon;
    let drop = 0;
    while (drop < list.length && (list[drop]! < oldest || list.length - drop > maxBuffer)) drop++;
    if (drop > 0) list.splice(0, drop);
  };

  /** A reading behind the last judged one but within the horizon: windows take it in. */
  const lateInsert = (s: SensorEntry, r: Buffered): void => {
    if (s.clock.seen[r.q]?.includes(r.t)) {
      skips.late++;
      return;
    }
    remember(s.clock, r.q, r.t);
    let used = false;
    for (const e of s.byQuantity.get(r.q) ?? []) {
      if (e.type === 'reading' && e.ev.lateInsert && e.ev.lateInsert(e.k, r.v, r.t, r.g)) used = true;
    }
    for (const e of s.deadmen) if (e.type === 'deadman' && (e.rule.quantity === undefined || e.rule.quantity === r.q)) e.k.last = Math.max(e.k.last ?? r.t, r.t);
    if (!used) skips.late++;
  };

  const evaluate = (sensorId: string, s: SensorEntry, r: Buffered, out: RuleChange[]): void => {
    s.clock.last[r.q] = r.t;
    remember(s.clock, r.q, r.t);
    let changed = false;
    let suspectSkipped = false;
    for (const e of s.byQuantity.get(r.q) ?? []) {
      if (e.type !== 'reading') continue;
      if (!r.g && !e.ev.acceptsSuspect) {
        suspectSkipped = true;
        continue;
      }
      const measure = e.ev.measure(e.k, r.v, r.t, r.g);
      if (Number.isNaN(measure)) continue;
      const step = stepMachine(e.cfg, e.m, measure, r.t);
      if (!step) continue;
      const unit = QUANTITY_UNITS[r.q as Quantity];
      const x = e.ev.explain(e.k, step.to > step.from, step.threshold, unit);
      emit(out, change(e, step, r.t, { sensorId, quantity: r.q as Quantity, value: x.value, unit: x.unit, tsMs: r.t, threshold: x.threshold, description: x.description }), e);
      changed = true;
    }
    if (suspectSkipped) skips.suspect++;
    for (const e of s.deadmen) {
      if (e.type !== 'deadman' || (e.rule.quantity !== undefined && e.rule.quantity !== r.q)) continue;
      e.k.last = Math.max(e.k.last ?? r.t, r.t);
      // Judged at the detector's clock: a backlog of old readings does not make a silent sensor healthy.
      changed = runDeadman(e, Math.max(clockMs ?? r.t, r.t), sensorId, out) || changed;
    }
    if (changed && composites.length > 0) runComposites(r.t, sensorId, out);
  };

  /** Evaluates buffered readings of a sensor up to `upTo`, oldest first. */
  const release = (sensorId: string, s: SensorEntry, upTo: number, out: RuleChange[]): void => {
    if (s.clock.buf.length === 0) return;
    const ready = s.clock.buf.filter((b) => b.t <= upTo).sort((a, b) => a.t - b.t || (a.q < b.q ? -1 : a.q > b.q ? 1 : 0));
    if (ready.length === 0) return;
    s.clock.buf = s.clock.buf.filter((b) => b.t > upTo);
    for (const b of ready) evaluate(sensorId, s, b, out);
  };

  const accept = (r: RuleReading, out: RuleChange[]): void => {
    const s = sensors.get(r.sensorId);
    if (!s || (!s.byQuantity.has(r.quantity) && s.deadmen.length === 0)) {
      skips.notApplicable++;
      return;
    }
    const c = s.clock;
    const last = c.last[r.quantity];
    if ((c.wm !== null && r.tsMs < c.wm - horizon) || r.tsMs === last) {
      skips.late++;
      return;
    }
    const b: Buffered = { q: r.quantity, v: r.value, t: r.tsMs, g: r.quality === 'good' };
    if (c.wm === null || r.tsMs > c.wm) c.wm = r.tsMs;
    if (last !== undefined && r.tsMs < last) {
      lateInsert(s, b);
      return;
    }
    if (reorder === 0) {
      evaluate(r.sensorId, s, b, out);
      return;
    }
    if (c.buf.some((x) => x.t === b.t && x.q === b.q)) {
      skips.late++;
      return;
    }
    c.buf.push(b);
    if (c.buf.length > maxBuffer) {
      // Bounded memory: the oldest waiting reading is evaluated now rather than dropped.
      c.buf.sort((x, y) => x.t - y.t);
      evaluate(r.sensorId, s, c.buf.shift()!, out);
    }
    release(r.sensorId, s, c.wm - reorder, out);
  };

  return {
    restore,
    apply(readings: readonly RuleReading[]): RuleChange[] {
      const valid: RuleReading[] = [];
      for (const r of Array.isArray(readings) ? readings : []) {
        if (isUsable(r)) valid.push(r);
        else skips.invalid++;
      }
      valid.sort((a, b) => a.tsMs - b.tsMs);
      const out: RuleChange[] = [];
      for (const r of valid) accept(r, out);
      return out;
    },
    tick(nowMs: number): RuleChange[] {
      const out: RuleChange[] = [];
      if (!Number.isFinite(nowMs)) {
        skips.invalid++;
        return out;
      }
      if (clockMs === null || nowMs > clockMs) clockMs = nowMs;
      const now = clockMs;
      if (reorder > 0) for (const [id, s] of sensors) release(id, s, now - reorder, out);
      for (const [id, s] of sensors) for (const e of s.deadmen) runDeadman(e, now, id, out);
      if (composites.length > 0) runComposites(now, '', out);
      return out;
    },
    levels(): Record<string, Level> {
      const out: Record<string, Level> = {};
      for (const e of entries.values()) out[e.id] = LEVELS[e.m.lv]!;
      return out;
    },
    skips: () => ({ ...skips }),
    snapshot(): unknown {
      const rulesOut: Record<string, unknown> = {};
      for (const e of entries.values()) rulesOut[e.id] = { fp: e.fingerprint, m: e.m, k: e.k };
      const sensorsOut: Record<string, unknown> = {};
      for (const [id, s] of sensors) sensorsOut[id] = s.clock;
      // A deep copy: the caller may keep it while this detector goes on.
      return JSON.parse(JSON.stringify({ v: SNAPSHOT_VERSION, clock: clockMs, rules: rulesOut, sensors: sensorsOut }));
    },
  };
}
