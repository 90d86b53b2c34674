/**
 * The alert engine: detection (a `Detector` over the configured rules), the alert lifecycle,
 * area levels and the notification outbox, all on one SQLite database. Every reading batch,
 * every tick and every operator action is one transaction: the detector snapshot, the
 * evaluated-reading watermark, alert rows, audit rows and outbox rows commit together, and
 * listeners, area publishing and the dispatcher only hear of a change after it committed.
 *
 * Episodes: one active alert per rule. It opens when the rule leaves Normal, follows its level
 * changes and is resolved by `rule:<id>` when the rule is back at Normal. If an operator
 * resolves it while the rule is still above Normal, detection carries on at its level without
 * an alert, and the next confirmed escalation opens a new alert (a de-escalation alone does not).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { levelRank, type AreaAlert, type Level, type RuleReading } from '@kentongan/firmware-protocol';
import type { ServerConfig } from '../config/schema.ts';
import { createDetectorFactory, type Detector, type DetectorFactory, type RuleChange } from '../detection/detector.ts';
import { MAX_FUTURE_SKEW_MS } from '../ingest/ingest.ts';
import type { NotificationChannel } from '../notify/channel.ts';
import { Dispatcher, type BackoffOptions, type Timers } from '../notify/dispatcher.ts';
import { Notifier, type ChangeContext } from '../notify/notifier.ts';
import { Outbox } from '../notify/outbox.ts';
import { AreaPublisher, computeAreaStatus } from './area-levels.ts';
import { AlertNotFoundError, AlertStateError } from './errors.ts';
import { lateBy, lateNotice } from './late.ts';
import { checkActor, checkNote } from './operator-input.ts';
import { hasReadings, maxReadingId, readingsAfter, WATERMARK_KEY } from './recovery.ts';
import { alreadyReminded, dueReminders, reminderKey } from './reminders.ts';
import { SilenceStore, type NewSilence, type Silence } from './silences.ts';
import { AlertStore, type AlertEvent, type AlertListFilter } from './store.ts';
import type { Topology } from './topology.ts';
import * as t from './transitions.ts';
import type { Alert, AlertChange, AlertEngine, AlertEngineStats, StoredReading } from './types.ts';

/** Counters beyond `AlertEngineStats`, for metrics. */
export interface AlertEngineCounters {
  readingsEvaluated: number;
  lateIgnored: number;
  suspectIgnored: number;
  invalidIgnored: number;
  detectionErrors: number;
  listenerErrors: number;
  publishErrors: number;
  /** Escalations from late data that would have re-fired an alert already resolved. */
  lateSuppressed: number;
  /** `unacknowledged` reminders emitted. */
  remindersEmitted: number;
  /** Level changes recorded under a silence (nothing queued for them). */
  silencedChanges: number;
  /** Readings re-evaluated at start-up (stored but not evaluated before a crash). */
  recoveredReadings: number;
}

/** The engine with a few additions beyond the `AlertEngine` contract. */
export interface KentonganAlertEngine extends AlertEngine {
  /** Every audited transition of one alert, oldest first (empty for an unknown id). */
  auditTrail(alertId: string): AlertEvent[];
  counters(): AlertEngineCounters;
  /** Advances event time to the clock: deadman/hold-time rules, reminders, silence expiry. */
  tick(): void;
  createSilence(input: NewSilence): Silence;
  endSilence(id: string, by: string): Silence;
  listSilences(filter?: { all?: boolean; limit?: number }): Silence[];
}

export interface EngineParts {
  db: Database.Database;
  config: ServerConfig;
  topology: Topology;
  logger: Logger;
  now: () => Date;
  publishAreaLevel: (msg: AreaAlert) => void;
  channels: readonly NotificationChannel[];
  timers?: Timers;
  backoff?: BackoffOptions;
  detectorFactory?: DetectorFactory;
}

const SNAPSHOT_KEY = 'detector_snapshot';
/** Longest time change-free detection state stays unwritten (see `evaluate`). */
const PERSIST_EVERY_MS = 1000;

export class AlertEngineImpl implements KentonganAlertEngine {
  private readonly store: AlertStore;
  private readonly silences: SilenceStore;
  private readonly outbox: Outbox;
  private readonly notifier: Notifier;
  private readonly dispatcher: Dispatcher;
  private readonly areas: AreaPublisher;
  private readonly listeners = new Set<(change: AlertChange) => void>();
  private readonly log: Logger;
  private readonly factory: DetectorFactory;
  private readonly withReadings: boolean;
  private detector!: Detector;
  /** The active (open or acknowledged) alert of each rule. */
  private active = new Map<string, Alert>();
  /** `reminderKey`s of levels already reminded about. */
  private reminded = new Set<string>();
  /** Set after a failed transaction: the next call re-reads what the watermark has not covered. */
  private needsRecovery = false;
  private timer: NodeJS.Timeout | null = null;
  private lastPersistMs = 0;
  private readonly count: AlertEngineCounters = {
    readingsEvaluated: 0,
    lateIgnored: 0,
    suspectIgnored: 0,
    invalidIgnored: 0,
    detectionErrors: 0,
    listenerErrors: 0,
    publishErrors: 0,
    lateSuppressed: 0,
    remindersEmitted: 0,
    silencedChanges: 0,
    recoveredReadings: 0,
  };

  constructor(private readonly p: EngineParts) {
    // The server usually passes a child already bound to this component; do not bind it twice.
    this.log = p.logger.bindings().component === 'alerts' ? p.logger : p.logger.child({ component: 'alerts' });
    this.factory = p.detectorFactory ?? createDetectorFactory({ allowedLatenessMs: p.config.alerts.allowedLatenessMs });
    this.store = new AlertStore(p.db);
    this.silences = new SilenceStore(p.db);
    this.outbox = new Outbox(p.db);
    this.notifier = new Notifier(this.outbox, p.channels, p.config.notify.sender);
    this.dispatcher = new Dispatcher({
      outbox: this.outbox,
      channels: p.channels,
      logger: p.logger.child({ component: 'notify' }),
      now: p.now,
      ...(p.timers ? { timers: p.timers } : {}),
      ...(p.backoff ? { backoff: p.backoff } : {}),
    });
    this.areas = new AreaPublisher(p.publishAreaLevel, this.log);
    this.withReadings = hasReadings(p.db);
    this.loadFromDb();
    if (this.withReadings && typeof this.store.getMeta(WATERMARK_KEY) !== 'number') {
      // First start on this database: history before now was never meant to alert.
      this.store.setMeta(WATERMARK_KEY, maxReadingId(p.db));
    }
    this.recover();
    this.areas.prime(this.areaStatus());
  }

  /** Active alerts, reminders and the detector from the database; nothing is re-fired. */
  private loadFromDb(): void {
    this.active = new Map(this.store.active().map((a) => [a.ruleId, a]));
    this.reminded = new Set([...this.active.values()].filter((a) => alreadyReminded(a, this.store.events(a.id))).map(reminderKey));
    const rules = this.p.config.rules;
    const snapshot = this.store.getMeta(SNAPSHOT_KEY);
    try {
      this.detector = this.factory(rules, snapshot);
    } catch (err) {
      this.log.warn({ err }, 'persisted detector snapshot unusable; detection restarted');
      this.detector = this.factory(rules);
    }
  }

  /** Evaluates readings stored but not yet evaluated (after a crash or a failed transaction). */
  private recover(): void {
    this.needsRecovery = false;
    if (!this.withReadings) return;
    const from = this.store.getMeta(WATERMARK_KEY);
    if (typeof from !== 'number') return;
    for (const page of readingsAfter(this.p.db, from)) {
      // Ingest keeps readings stamped far in the future from detection; so does recovery.
      const kept = page.readings.filter((r) => Date.parse(r.ts) <= Date.parse(r.receivedAt) + MAX_FUTURE_SKEW_MS);
      this.count.recoveredReadings += kept.length;
      this.log.warn({ readings: kept.length, afterId: from }, 'evaluating readings stored before a restart');
      if (!this.evaluate(kept, page.lastId)) return;
    }
  }

  onStoredReadings(readings: readonly StoredReading[]): void {
    if (!Array.isArray(readings) || readings.length === 0) return;
    // The batch is committed already, so recovery (everything above the watermark) includes it.
    if (this.needsRecovery && this.withReadings) return this.recover();
    this.evaluate(readings, 'max');
  }

  /** One transaction: detector, alert changes, snapshot and watermark. False when it failed. */
  private evaluate(readings: readonly StoredReading[], watermark: number | 'max'): boolean {
    const input: RuleReading[] = [];
    const received = new Map<string, number>();
    for (const r of readings) {
      if (typeof r !== 'object' || r === null || typeof r.sensorId !== 'string' || typeof r.quantity !== 'string') {
        this.count.invalidIgnored++;
        continue;
      }
      const tsMs = Date.parse(r.ts);
      input.push({ sensorId: r.sensorId, quantity: r.quantity, value: r.value, unit: r.unit, tsMs, quality: r.quality });
      const key = `${r.sensorId}|${tsMs}`;
      received.set(key, Math.max(received.get(key) ?? -Infinity, Date.parse(r.receivedAt)));
    }
    const changes: AlertChange[] = [];
    const before = this.detector.skips();
    try {
      this.p.db.transaction(() => {
        for (const rc of this.detector.apply(input)) this.applyRuleChange(rc, received, changes);
        // With alert changes, snapshot and watermark must commit with them (else a crash would
        // replay and re-fire). Without, writing them at most once a second is enough: a crash
        // replays the change-free readings since, and a deterministic detector ends where it was.
        const nowMs = Date.now();
        if (changes.length > 0 || nowMs - this.lastPersistMs >= PERSIST_EVERY_MS || !this.withReadings) {
          this.persistDetection(watermark);
          this.lastPersistMs = nowMs;
        }
      })();
    } catch (err) {
      this.failed(err);
      return false;
    }
    const after = this.detector.skips();
    const skipped = (k: keyof typeof after) => after[k] - before[k];
    this.count.lateIgnored += skipped('late');
    this.count.suspectIgnored += skipped('suspect');
    this.count.invalidIgnored += skipped('invalid');
    this.count.readingsEvaluated += input.length - skipped('late') - skipped('suspect') - skipped('invalid') - skipped('notApplicable');
    this.afterCommit(changes);
    return true;
  }

  /** The detector snapshot and the evaluated-reading watermark (in the caller's transaction). */
  private persistDetection(watermark: number | 'max'): void {
    this.store.setMeta(SNAPSHOT_KEY, this.detector.snapshot());
    if (this.withReadings) this.store.setMeta(WATERMARK_KEY, watermark === 'max' ? maxReadingId(this.p.db) : watermark);
  }

  private failed(err: unknown): void {
    this.count.detectionErrors++;
    this.log.error({ err }, 'detection transaction failed; state reloaded');
    this.loadFromDb();
    this.needsRecovery = true;
  }

  /** Turns one rule level change into an alert change (inside the caller's transaction). */
  private applyRuleChange(rc: RuleChange, received: ReadonlyMap<string, number>, out: AlertChange[]): void {
    const place = this.p.topology.rules.get(rc.ruleId);
    if (!place) return;
    const nowMs = this.p.now().getTime();
    const at = new Date(nowMs).toISOString();
    const ev = rc.evidence;
    const late = lateBy(received.get(`${ev.sensorId}|${ev.tsMs}`), ev.tsMs, this.p.config.alerts.lateNoticeAfterMs);
    const evidence = { value: ev.value, unit: ev.unit, ts: new Date(ev.tsMs).toISOString(), threshold: ev.threshold, description: ev.description };
    const current = this.active.get(rc.ruleId);
    let change: AlertChange;
    if (rc.kind === 'escalated') {
      // Never re-fire: an alert already at (or above) this level stays as it is.
      if (current && levelRank(current.level) >= levelRank(rc.to)) return;
      if (!current && this.resolvedAfter(rc.ruleId, rc.atMs)) {
        this.count.lateSuppressed++;
        return;
      }
      change = current
        ? t.escalateAlert(current, rc.to, evidence, at, late)
        : t.openAlert(place, randomUUID(), rc.to, evidence, at, { audience: rc.audience, lateByMs: late, sensorId: ev.sensorId });
    } else {
      // No active alert: an operator resolved it; detection steps down silently.
      if (!current || levelRank(rc.to) >= levelRank(current.level)) return;
      change = t.deescalateAlert(current, rc.to, evidence, at, late);
    }
    const silence = this.silences.covering(place.sensorIds, place.siteId, nowMs);
    const decorated: AlertChange = {
      ...change,
      audience: change.alert.audience ?? 'public',
      lateByMs: late,
      lateNotice: late === null ? null : lateNotice(late),
      silencedBy: silence?.id ?? null,
    };
    const notes = [
      decorated.lateNotice ? `${decorated.lateNotice.id} / ${decorated.lateNotice.en}` : null,
      silence ? `senyap (pemeliharaan) / silenced (maintenance): ${silence.id}` : null,
    ].filter((x) => x !== null);
    this.persist(decorated, notes.length > 0 ? notes.join('; ') : null, { quantity: place.quantity, siteName: place.siteName, areaName: place.areaName });
    out.push(decorated);
  }

  /** Whether the rule's last alert was resolved at or after event time `atMs` (late data). */
  private resolvedAfter(ruleId: string, atMs: number): boolean {
    const last = this.store.lastResolution(ruleId);
    if (!last) return false;
    // A rule resolve happened at its evidence's event time; an operator's at the wall-clock time.
    const cutoff = last.resolvedBy.startsWith('rule:') ? Date.parse(last.evidenceTs) : Date.parse(last.resolvedAt);
    return atMs <= cutoff;
  }

  /** Writes the alert, its audit row and (unless silenced) its outbox rows, in the caller's transaction. */
  private persist(change: AlertChange, note: string | null, ctx: ChangeContext): void {
    if (change.change === 'opened') this.store.insert(change.alert);
    else if (change.change !== 'unacknowledged') this.store.update(change.alert);
    const occurrence = this.store.addEvent(change, note);
    if (change.silencedBy) this.count.silencedChanges++;
    else this.notifier.enqueue(change, ctx, occurrence, this.p.now());
    if (change.alert.state === 'resolved') this.active.delete(change.alert.ruleId);
    else this.active.set(change.alert.ruleId, change.alert);
  }

  private afterCommit(changes: AlertChange[]): void {
    for (const change of changes) {
      this.log.info(
        { alertId: change.alert.id, ruleId: change.alert.ruleId, change: change.change, from: change.from, to: change.to, actor: change.actor, lateByMs: change.lateByMs ?? null, silencedBy: change.silencedBy ?? null },
        'alert changed',
      );
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          this.count.listenerErrors++;
          this.log.error({ err }, 'alert change listener threw');
        }
      }
    }
    this.areas.update(this.areaStatus(), this.p.now().toISOString());
    if (changes.length > 0) this.dispatcher.kick();
  }

  tick(): void {
    const now = this.p.now();
    const nowMs = now.getTime();
    const changes: AlertChange[] = [];
    try {
      this.p.db.transaction(() => {
        const ruleChanges = this.detector.tick(nowMs);
        for (const rc of ruleChanges) this.applyRuleChange(rc, new Map(), changes);
        if (ruleChanges.length > 0) this.store.setMeta(SNAPSHOT_KEY, this.detector.snapshot());
        const after = this.p.config.alerts.escalateUnacknowledgedAfterMs;
        if (after <= 0) return;
        for (const a of dueReminders(this.active.values(), this.reminded, nowMs, after)) {
          const place = this.p.topology.rules.get(a.ruleId);
          if (this.silences.covering(place?.sensorIds ?? [a.sensorId], a.siteId, nowMs)) continue;
          const c: AlertChange = { ...t.unacknowledgedReminder(a, now.toISOString()), audience: 'public', lateByMs: null, lateNotice: null, silencedBy: null };
          this.persist(c, null, this.contextOf(a));
          this.reminded.add(reminderKey(a));
          this.count.remindersEmitted++;
          changes.push(c);
        }
      })();
    } catch (err) {
      this.failed(err);
      return;
    }
    // Also when nothing changed: a silence may have expired, which changes an area's level.
    this.afterCommit(changes);
  }

  private contextOf(alert: Alert): ChangeContext {
    const place = this.p.topology.rules.get(alert.ruleId);
    if (place) return { quantity: place.quantity, siteName: place.siteName, areaName: place.areaName };
    // The rule left the config while its alert was active: names from what is still known.
    return {
      siteName: this.p.topology.siteNames.get(alert.siteId) ?? alert.siteId,
      areaName: this.p.topology.areas.get(alert.areaId) ?? alert.areaId,
    };
  }

  private operatorAction(
    alertId: string,
    by: string,
    note: string | null,
    make: (a: Alert, by: string, note: string | null, at: string) => AlertChange,
  ): Alert {
    const actor = checkActor(by);
    const cleanNote = checkNote(note);
    if (typeof alertId !== 'string') throw new AlertNotFoundError(String(alertId));
    let change: AlertChange;
    try {
      change = this.p.db.transaction(() => {
        const alert = this.store.get(alertId);
        if (!alert) throw new AlertNotFoundError(alertId);
        if (alert.state === 'resolved') throw new AlertStateError(alertId);
        const place = this.p.topology.rules.get(alert.ruleId);
        const silence = this.silences.covering(place?.sensorIds ?? [alert.sensorId], alert.siteId, this.p.now().getTime());
        const made = make(alert, actor, cleanNote, this.p.now().toISOString());
        const c: AlertChange = { ...made, audience: alert.audience ?? 'public', lateByMs: null, lateNotice: null, silencedBy: silence?.id ?? null };
        this.persist(c, cleanNote, this.contextOf(alert));
        return c;
      })();
    } catch (err) {
      // A database failure rolled back; the in-memory view may be ahead of it.
      if (!(err instanceof AlertNotFoundError || err instanceof AlertStateError)) this.loadFromDb();
      throw err;
    }
    this.afterCommit([change]);
    return change.alert;
  }

  acknowledge(alertId: string, by: string, note: string | null): Alert {
    return this.operatorAction(alertId, by, note, t.acknowledgeAlert);
  }

  resolve(alertId: string, by: string, note: string | null): Alert {
    return this.operatorAction(alertId, by, note, t.operatorResolveAlert);
  }

  createSilence(input: NewSilence): Silence {
    const s = this.silences.create(input, this.p.now());
    this.log.info({ silenceId: s.id, scope: s.scope, targetId: s.targetId, by: s.createdBy, expiresAt: s.expiresAt }, 'silence created');
    this.areas.update(this.areaStatus(), this.p.now().toISOString());
    return s;
  }

  endSilence(id: string, by: string): Silence {
    const s = this.silences.end(id, by, this.p.now());
    this.log.info({ silenceId: s.id, by: s.endedBy }, 'silence ended');
    this.areas.update(this.areaStatus(), this.p.now().toISOString());
    return s;
  }

  listSilences(filter: { all?: boolean; limit?: number } = {}): Silence[] {
    return this.silences.list(filter, this.p.now().getTime());
  }

  listAlerts(filter?: AlertListFilter): Alert[] {
    return this.store.list(filter);
  }

  getAlert(alertId: string): Alert | undefined {
    return typeof alertId === 'string' ? this.store.get(alertId) : undefined;
  }

  auditTrail(alertId: string): AlertEvent[] {
    return this.store.events(alertId);
  }

  /** Area levels count public alerts that no silence covers: health alerts never sound a siren. */
  private areaStatus() {
    const nowMs = this.p.now().getTime();
    const counted = [...this.active.values()].filter((a) => {
      if ((a.audience ?? 'public') !== 'public') return false;
      const place = this.p.topology.rules.get(a.ruleId);
      return this.silences.covering(place?.sensorIds ?? [a.sensorId], a.siteId, nowMs) === null;
    });
    return computeAreaStatus(this.p.topology.areas.keys(), counted);
  }

  areaLevels(): Record<string, Level> {
    const out: Record<string, Level> = {};
    for (const [areaId, s] of this.areaStatus()) out[areaId] = s.level;
    return out;
  }

  onChange(listener: (change: AlertChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  stats(): AlertEngineStats {
    const totals = this.store.totals();
    const outbox = this.outbox.counts();
    return {
      alertsRaised: totals.raised,
      maxLevel: totals.maxLevel,
      notificationsSent: outbox.sent,
      notificationsFailed: outbox.failed,
      notificationsPending: outbox.pending,
    };
  }

  counters(): AlertEngineCounters {
    return { ...this.count, publishErrors: this.areas.errors };
  }

  /** Publishes every area's level once (retained topics may be empty after a broker restart),
   * starts the dispatcher and the tick timer. */
  start(): void {
    this.areas.update(this.areaStatus(), this.p.now().toISOString(), true);
    this.dispatcher.start();
    this.timer ??= setInterval(() => this.tick(), this.p.config.alerts.tickIntervalMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      this.p.db.transaction(() => this.persistDetection('max'))();
    } catch (err) {
      this.log.warn({ err }, 'detection state not written at stop; it is rebuilt from the readings at start');
    }
    return this.dispatcher.stop();
  }
}
