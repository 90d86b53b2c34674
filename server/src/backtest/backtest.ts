/**
 * Backtest (issue 4, item 6): runs a rule set over stored history and reports what it would have
 * raised and when, so BPBD can tune thresholds before changing them ("how many alerts would
 * these thresholds have raised last rainy season?").
 *
 * It uses the very detector the live engine uses (`detection/detector.ts`), fed in event-time
 * order from the store (`history.ts`, streamed page by page), with ticks every `tickEveryMs` of
 * event time so deadman and hold-time rules behave as they do live. Nothing is written.
 * Between chunks it yields to the event loop, so the API stays responsive during a long run.
 */
import type Database from 'better-sqlite3';
import { levelRank, type Level, type RuleChange, type RuleReading } from '@kentongan/firmware-protocol';
import type { Rule } from '../config/schema.ts';
import { defaultDetectorFactory, sensorIdsOf, type DetectorFactory } from '../detection/detector.ts';
import { toWib } from '../routes/time.ts';
import { mergedHistory, seriesOf } from './history.ts';

export interface BacktestOptions {
  rules: readonly Rule[];
  fromMs: number;
  toMs: number;
  /** Event-time step of ticks (deadman, hold times); default one minute. */
  tickEveryMs?: number;
  /** Most alerts listed (the summary still counts all). */
  maxAlerts?: number;
  onProgress?: (p: BacktestProgress) => void;
  signal?: AbortSignal;
  detectorFactory?: DetectorFactory;
}

export interface BacktestProgress {
  readings: number;
  /** Event time reached. */
  tsMs: number;
  /** 0..1 of the window. */
  fraction: number;
}

/** One level change, times in UTC and WIB. */
export interface BacktestChange {
  kind: RuleChange['kind'];
  from: Level;
  to: Level;
  at: string;
  atLocal: string;
  sensorId: string;
  value: number;
  unit: string;
  threshold: number;
  description: { id: string; en: string };
}

/** One alert episode the rules would have raised. */
export interface BacktestAlert {
  ruleId: string;
  hazard: RuleChange['hazard'];
  audience: RuleChange['audience'];
  openedAt: string;
  openedAtLocal: string;
  /** Null when still open at the end of the window. */
  closedAt: string | null;
  closedAtLocal: string | null;
  maxLevel: Level;
  changes: BacktestChange[];
}

export interface BacktestReport {
  from: string;
  to: string;
  fromLocal: string;
  toLocal: string;
  rules: number;
  readings: number;
  alerts: BacktestAlert[];
  /** True when more than `maxAlerts` episodes were raised (the list is cut, the summary is not). */
  truncated: boolean;
  summary: {
    alerts: number;
    maxLevel: Level;
    byRule: Record<string, { alerts: number; Waspada: number; Siaga: number; Awas: number }>;
  };
  skipped: { late: number; suspect: number; invalid: number; notApplicable: number };
}

export class BacktestAbortedError extends Error {
  readonly code = 'BACKTEST_ABORTED';
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function runBacktest(db: Database.Database, opts: BacktestOptions): Promise<BacktestReport> {
  const tickEvery = opts.tickEveryMs ?? 60_000;
  const maxAlerts = opts.maxAlerts ?? 1000;
  const detector = (opts.detectorFactory ?? defaultDetectorFactory)(opts.rules);
  const sensors = [...new Set(opts.rules.flatMap((r) => sensorIdsOf(r)))];
  const open = new Map<string, BacktestAlert>();
  const alerts: BacktestAlert[] = [];
  const byRule: BacktestReport['summary']['byRule'] = {};
  for (const r of opts.rules) byRule[r.id] = { alerts: 0, Waspada: 0, Siaga: 0, Awas: 0 };
  let total = 0;
  let maxLevel: Level = 'Normal';
  let readings = 0;

  const record = (changes: RuleChange[]) => {
    for (const c of changes) {
      const ch: BacktestChange = {
        kind: c.kind,
        from: c.from,
        to: c.to,
        at: iso(c.atMs),
        atLocal: toWib(iso(c.atMs)),
        sensorId: c.evidence.sensorId,
        value: c.evidence.value,
        unit: c.evidence.unit,
        threshold: c.evidence.threshold,
        description: c.evidence.description,
      };
      const counts = (byRule[c.ruleId] ??= { alerts: 0, Waspada: 0, Siaga: 0, Awas: 0 });
      let ep = open.get(c.ruleId);
      if (!ep && c.kind === 'escalated') {
        ep = { ruleId: c.ruleId, hazard: c.hazard, audience: c.audience, openedAt: ch.at, openedAtLocal: ch.atLocal, closedAt: null, closedAtLocal: null, maxLevel: c.to, changes: [] };
        open.set(c.ruleId, ep);
        total++;
        counts.alerts++;
        if (alerts.length < maxAlerts) alerts.push(ep);
      }
      if (!ep) continue;
      ep.changes.push(ch);
      if (c.kind === 'escalated' && c.to !== 'Normal') {
        counts[c.to]++;
        if (levelRank(c.to) > levelRank(ep.maxLevel)) ep.maxLevel = c.to;
        if (levelRank(c.to) > levelRank(maxLevel)) maxLevel = c.to;
      }
      if (c.to === 'Normal') {
        ep.closedAt = ch.at;
        ep.closedAtLocal = ch.atLocal;
        open.delete(c.ruleId);
      }
    }
  };

  let nextTick = opts.fromMs + tickEvery;
  const tickUpTo = (ms: number) => {
    for (; nextTick <= ms; nextTick += tickEvery) record(detector.tick(nextTick));
  };
  const span = Math.max(1, opts.toMs - opts.fromMs);
  for (const chunk of mergedHistory(db, seriesOf(db, sensors), opts.fromMs, opts.toMs)) {
    if (opts.signal?.aborted) throw new BacktestAbortedError('backtest dibatalkan / backtest aborted');
    let pending: RuleReading[] = [];
    for (const r of chunk) {
      if (r.tsMs >= nextTick) {
        record(detector.apply(pending));
        pending = [];
        tickUpTo(r.tsMs);
      }
      pending.push(r);
    }
    record(detector.apply(pending));
    readings += chunk.length;
    const last = chunk[chunk.length - 1]!.tsMs;
    opts.onProgress?.({ readings, tsMs: last, fraction: Math.min(1, (last - opts.fromMs) / span) });
    await new Promise((resolve) => setImmediate(resolve));
  }
  tickUpTo(opts.toMs);
  const skips = detector.skips();
  return {
    from: iso(opts.fromMs),
    to: iso(opts.toMs),
    fromLocal: toWib(iso(opts.fromMs)),
    toLocal: toWib(iso(opts.toMs)),
    rules: opts.rules.length,
    readings,
    alerts,
    truncated: total > alerts.length,
    summary: { alerts: total, maxLevel, byRule },
    skipped: { ...skips },
  };
}
