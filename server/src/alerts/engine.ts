/**
 * The alert engine: detection per rule, the alert lifecycle, area levels and the notification
 * outbox, all on one SQLite database. Every reading batch and every operator action is one
 * transaction: detection state, alert rows, audit rows and outbox rows commit together, and
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
import type { AreaAlert, Level } from '@kentongan/firmware-protocol';
import type { ServerConfig } from '../config/schema.ts';
import {
  evaluateThreshold,
  initialThresholdState,
  normalizeThresholdState,
  thresholdStateSchema,
  type ThresholdState,
  type ThresholdVerdict,
} from '../detection/threshold.ts';
import type { NotificationChannel } from '../notify/channel.ts';
import { Dispatcher, type BackoffOptions, type Timers } from '../notify/dispatcher.ts';
import { Notifier, type ChangeContext } from '../notify/notifier.ts';
import { Outbox } from '../notify/outbox.ts';
import { AreaPublisher, computeAreaStatus } from './area-levels.ts';
import { AlertNotFoundError, AlertStateError } from './errors.ts';
import { checkActor, checkNote } from './operator-input.ts';
import { AlertStore, type AlertEvent, type AlertListFilter } from './store.ts';
import { groupByRule } from './reading-order.ts';
import type { RulePlace, Topology } from './topology.ts';
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
}

/** The engine with a few additions beyond the `AlertEngine` contract. */
export interface KentonganAlertEngine extends AlertEngine {
  /** Every audited transition of one alert, oldest first (empty for an unknown id). */
  auditTrail(alertId: string): AlertEvent[];
  counters(): AlertEngineCounters;
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
}

export class AlertEngineImpl implements KentonganAlertEngine {
  private readonly store: AlertStore;
  private readonly outbox: Outbox;
  private readonly notifier: Notifier;
  private readonly dispatcher: Dispatcher;
  private readonly areas: AreaPublisher;
  private readonly listeners = new Set<(change: AlertChange) => void>();
  private readonly log: Logger;
  private states = new Map<string, ThresholdState>();
  /** The active (open or acknowledged) alert of each rule. */
  private active = new Map<string, Alert>();
  private readonly count: AlertEngineCounters = {
    readingsEvaluated: 0,
    lateIgnored: 0,
    suspectIgnored: 0,
    invalidIgnored: 0,
    detectionErrors: 0,
    listenerErrors: 0,
    publishErrors: 0,
  };

  constructor(private readonly p: EngineParts) {
    // The server usually passes a child already bound to this component; do not bind it twice.
    this.log = p.logger.bindings().component === 'alerts' ? p.logger : p.logger.child({ component: 'alerts' });
    this.store = new AlertStore(p.db);
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
    this.loadFromDb();
    this.areas.prime(this.areaStatus());
  }

  /** Active alerts and detection state from the database; nothing is re-fired. */
  private loadFromDb(): void {
    this.active = new Map(this.store.active().map((a) => [a.ruleId, a]));
    const raw = this.store.detectionStates();
    this.states = new Map();
    for (const [ruleId, place] of this.p.topology.rules) {
      const parsed = thresholdStateSchema.safeParse(raw.get(ruleId));
      if (!parsed.success && raw.has(ruleId)) this.log.warn({ ruleId }, 'persisted detection state invalid, restarted');
      const state = parsed.success ? parsed.data : initialThresholdState(this.active.get(ruleId)?.level ?? 'Normal');
      this.states.set(ruleId, normalizeThresholdState(place.rule, state));
    }
  }

  onStoredReadings(readings: readonly StoredReading[]): void {
    if (!Array.isArray(readings) || readings.length === 0) return;
    const byRule = groupByRule(readings, this.p.topology, () => {
      this.count.invalidIgnored++;
    });
    if (byRule.size === 0) return;
    const changes: AlertChange[] = [];
    try {
      this.p.db.transaction(() => {
        for (const [place, list] of byRule) this.evaluateRule(place, list, changes);
      })();
    } catch (err) {
      this.count.detectionErrors++;
      this.log.error({ err }, 'detection transaction failed; state reloaded');
      changes.length = 0;
      this.loadFromDb();
      return;
    }
    this.afterCommit(changes);
  }

  private evaluateRule(place: RulePlace, list: StoredReading[], changes: AlertChange[]): void {
    const ruleId = place.rule.id;
    const before = this.states.get(ruleId) ?? initialThresholdState();
    let state = before;
    for (const r of list) {
      const res = evaluateThreshold(place.rule, state, r);
      state = res.state;
      this.countVerdict(res.verdict);
      if (res.verdict.kind === 'escalated' || res.verdict.kind === 'deescalated') {
        const change = this.applyLevelChange(place, res.verdict, r);
        if (change) changes.push(change);
      }
    }
    if (state !== before) {
      this.states.set(ruleId, state);
      this.store.saveDetectionState(ruleId, state, this.p.now().toISOString());
    }
  }

  private countVerdict(v: ThresholdVerdict): void {
    if (v.kind !== 'ignored') this.count.readingsEvaluated++;
    else if (v.reason === 'late') this.count.lateIgnored++;
    else if (v.reason === 'suspect') this.count.suspectIgnored++;
    else if (v.reason === 'invalid') this.count.invalidIgnored++;
  }

  private applyLevelChange(
    place: RulePlace,
    v: Extract<ThresholdVerdict, { kind: 'escalated' | 'deescalated' }>,
    r: StoredReading,
  ): AlertChange | null {
    const at = this.p.now().toISOString();
    const evidence = { value: r.value, unit: r.unit, ts: r.ts, threshold: v.threshold };
    const current = this.active.get(place.rule.id);
    let change: AlertChange;
    if (v.kind === 'escalated') {
      change = current ? t.escalateAlert(current, v.to, evidence, at) : t.openAlert(place, randomUUID(), v.to, evidence, at);
    } else {
      // No active alert: an operator resolved it; detection steps down silently.
      if (!current) return null;
      change = t.deescalateAlert(current, v.to, evidence, at);
    }
    this.persist(change, null, { quantity: place.rule.quantity, siteName: place.siteName, areaName: place.areaName });
    return change;
  }

  /** Writes the alert, its audit row and its outbox rows (inside the caller's transaction). */
  private persist(change: AlertChange, note: string | null, ctx: ChangeContext): void {
    if (change.change === 'opened') this.store.insert(change.alert);
    else this.store.update(change.alert);
    const occurrence = this.store.addEvent(change, note);
    this.notifier.enqueue(change, ctx, occurrence, this.p.now());
    if (change.alert.state === 'resolved') this.active.delete(change.alert.ruleId);
    else this.active.set(change.alert.ruleId, change.alert);
  }

  private afterCommit(changes: AlertChange[]): void {
    if (changes.length === 0) return;
    for (const change of changes) {
      this.log.info(
        { alertId: change.alert.id, ruleId: change.alert.ruleId, change: change.change, from: change.from, to: change.to, actor: change.actor },
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
    this.dispatcher.kick();
  }

  private contextOf(alert: Alert): ChangeContext {
    const place = this.p.topology.rules.get(alert.ruleId);
    if (place) return { quantity: place.rule.quantity, siteName: place.siteName, areaName: place.areaName };
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
        const c = make(alert, actor, cleanNote, this.p.now().toISOString());
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

  listAlerts(filter?: AlertListFilter): Alert[] {
    return this.store.list(filter);
  }

  getAlert(alertId: string): Alert | undefined {
    return typeof alertId === 'string' ? this.store.get(alertId) : undefined;
  }

  auditTrail(alertId: string): AlertEvent[] {
    return this.store.events(alertId);
  }

  private areaStatus() {
    return computeAreaStatus(this.p.topology.areas.keys(), this.active.values());
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
   * then starts the dispatcher. */
  start(): void {
    this.areas.update(this.areaStatus(), this.p.now().toISOString(), true);
    this.dispatcher.start();
  }

  stop(): Promise<void> {
    return this.dispatcher.stop();
  }
}
