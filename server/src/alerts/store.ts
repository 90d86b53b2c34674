/**
 * SQLite persistence of alerts, their audit trail and per-rule detection state. Tables are
 * prefixed `alert_` in the shared state database; statements are prepared once.
 */
import type Database from 'better-sqlite3';
import { LEVELS, type Level } from '@kentongan/firmware-protocol';
import type { Alert, AlertChange, AlertState } from './types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_alerts (
  id TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  hazard TEXT NOT NULL,
  area_id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  sensor_id TEXT NOT NULL,
  level TEXT NOT NULL,
  max_level TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
  evidence TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  acknowledged_by TEXT,
  acknowledged_at TEXT,
  resolved_by TEXT,
  resolved_at TEXT,
  note TEXT
);
-- At most one active (open or acknowledged) alert per rule: the episode invariant.
CREATE UNIQUE INDEX IF NOT EXISTS alert_alerts_active_rule ON alert_alerts(rule_id) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alert_alerts_opened ON alert_alerts(opened_at);
CREATE TABLE IF NOT EXISTS alert_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL REFERENCES alert_alerts(id),
  change TEXT NOT NULL,
  from_level TEXT,
  to_level TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  note TEXT,
  evidence TEXT
);
CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events(alert_id, id);
CREATE TABLE IF NOT EXISTS alert_detection_state (
  rule_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- Issue 4: small engine facts (the detector snapshot, the evaluated-reading watermark), written
-- in the same transaction as the alert rows they belong to.
CREATE TABLE IF NOT EXISTS alert_engine_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** Columns added after the first release; added to older databases at start-up. */
const ADDED_COLUMNS: readonly [string, string][] = [
  ['audience', `TEXT NOT NULL DEFAULT 'public'`],
  ['late_by_ms', 'INTEGER'],
];

/** One audit row: every transition of an alert, who did it and when. */
export interface AlertEvent {
  id: number;
  alertId: string;
  change: AlertChange['change'];
  from: Level | null;
  to: Level;
  actor: string;
  at: string;
  note: string | null;
  evidence: Alert['evidence'] | null;
}

interface AlertRow {
  id: string;
  rule_id: string;
  hazard: string;
  area_id: string;
  site_id: string;
  sensor_id: string;
  level: string;
  max_level: string;
  state: string;
  evidence: string;
  opened_at: string;
  updated_at: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  note: string | null;
  audience: string;
  late_by_ms: number | null;
}

interface EventRow {
  id: number;
  alert_id: string;
  change: string;
  from_level: string | null;
  to_level: string;
  actor: string;
  at: string;
  note: string | null;
  evidence: string | null;
}

function toLevel(s: string): Level {
  return (LEVELS as readonly string[]).includes(s) ? (s as Level) : 'Normal';
}

function fromRow(r: AlertRow): Alert {
  return {
    id: r.id,
    ruleId: r.rule_id,
    hazard: r.hazard === 'landslide' ? 'landslide' : 'flood',
    areaId: r.area_id,
    siteId: r.site_id,
    sensorId: r.sensor_id,
    level: toLevel(r.level),
    maxLevel: toLevel(r.max_level),
    state: r.state as AlertState,
    evidence: JSON.parse(r.evidence) as Alert['evidence'],
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: r.acknowledged_at,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at,
    note: r.note,
    audience: r.audience === 'technician' ? 'technician' : 'public',
    lateByMs: r.late_by_ms,
  };
}

function toParams(a: Alert): Record<string, unknown> {
  return {
    id: a.id,
    rule_id: a.ruleId,
    hazard: a.hazard,
    area_id: a.areaId,
    site_id: a.siteId,
    sensor_id: a.sensorId,
    level: a.level,
    max_level: a.maxLevel,
    state: a.state,
    evidence: JSON.stringify(a.evidence),
    opened_at: a.openedAt,
    updated_at: a.updatedAt,
    acknowledged_by: a.acknowledgedBy,
    acknowledged_at: a.acknowledgedAt,
    resolved_by: a.resolvedBy,
    resolved_at: a.resolvedAt,
    note: a.note,
    audience: a.audience ?? 'public',
    late_by_ms: a.lateByMs ?? null,
  };
}

export interface AlertListFilter {
  state?: AlertState | 'active';
  areaId?: string;
  limit?: number;
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export class AlertStore {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    const have = new Set(db.prepare<[], { name: string }>(`PRAGMA table_info(alert_alerts)`).all().map((c) => c.name));
    for (const [name, type] of ADDED_COLUMNS) if (!have.has(name)) db.exec(`ALTER TABLE alert_alerts ADD COLUMN ${name} ${type}`);
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO alert_alerts (id, rule_id, hazard, area_id, site_id, sensor_id, level, max_level, state, evidence,
          opened_at, updated_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at, note, audience, late_by_ms) VALUES (@id, @rule_id, @hazard, @area_id, @site_id, @sensor_id, @level, @max_level,
          @state, @evidence, @opened_at, @updated_at, @acknowledged_by, @acknowledged_at, @resolved_by, @resolved_at, @note, @audience, @late_by_ms)`,
      ),
      update: db.prepare(
        `UPDATE alert_alerts SET level = @level, max_level = @max_level, state = @state, evidence = @evidence,
          updated_at = @updated_at, acknowledged_by = @acknowledged_by, acknowledged_at = @acknowledged_at,
          resolved_by = @resolved_by, resolved_at = @resolved_at, note = @note, late_by_ms = @late_by_ms WHERE id = @id`,
      ),
      get: db.prepare<[string], AlertRow>('SELECT * FROM alert_alerts WHERE id = ?'),
      active: db.prepare<[], AlertRow>(`SELECT * FROM alert_alerts WHERE state <> 'resolved'`),
      event: db.prepare(
        `INSERT INTO alert_events (alert_id, change, from_level, to_level, actor, at, note, evidence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      events: db.prepare<[string], EventRow>('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY id'),
      countSame: db.prepare<[string, string, string], { n: number }>(
        'SELECT COUNT(*) AS n FROM alert_events WHERE alert_id = ? AND change = ? AND to_level = ?',
      ),
      saveState: db.prepare(
        `INSERT INTO alert_detection_state (rule_id, state, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(rule_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      ),
      states: db.prepare<[], { rule_id: string; state: string }>('SELECT rule_id, state FROM alert_detection_state'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM alert_engine_meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO alert_engine_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      lastResolved: db.prepare<[string], { resolved_at: string; resolved_by: string; evidence: string }>(
        `SELECT resolved_at, resolved_by, evidence FROM alert_alerts WHERE rule_id = ? AND state = 'resolved'
         ORDER BY resolved_at DESC, rowid DESC LIMIT 1`,
      ),
      totals: db.prepare<[], { n: number; levels: string | null }>(
        `SELECT COUNT(*) AS n, group_concat(DISTINCT max_level) AS levels FROM alert_alerts`,
      ),
    };
  }

  insert(alert: Alert): void {
    this.stmts.insert.run(toParams(alert));
  }

  update(alert: Alert): void {
    this.stmts.update.run(toParams(alert));
  }

  get(id: string): Alert | undefined {
    const row = this.stmts.get.get(id);
    return row ? fromRow(row) : undefined;
  }

  active(): Alert[] {
    return this.stmts.active.all().map(fromRow);
  }

  list(filter: AlertListFilter = {}): Alert[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state === 'active') where.push(`state <> 'resolved'`);
    else if (filter.state !== undefined) {
      where.push('state = ?');
      params.push(filter.state);
    }
    if (filter.areaId !== undefined) {
      where.push('area_id = ?');
      params.push(filter.areaId);
    }
    const limit =
      filter.limit !== undefined && Number.isInteger(filter.limit) && filter.limit > 0
        ? Math.min(filter.limit, MAX_LIST_LIMIT)
        : DEFAULT_LIST_LIMIT;
    const sql = `SELECT * FROM alert_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY opened_at DESC, rowid DESC LIMIT ${limit}`;
    return this.db.prepare<unknown[], AlertRow>(sql).all(...params).map(fromRow);
  }

  /** Appends an audit row; returns how many rows with this change and level the alert now has. */
  addEvent(change: AlertChange, note: string | null): number {
    this.stmts.event.run(
      change.alert.id,
      change.change,
      change.from,
      change.to,
      change.actor,
      change.at,
      note,
      JSON.stringify(change.alert.evidence),
    );
    return this.stmts.countSame.get(change.alert.id, change.change, change.to)!.n;
  }

  events(alertId: string): AlertEvent[] {
    return this.stmts.events.all(alertId).map((r) => ({
      id: r.id,
      alertId: r.alert_id,
      change: r.change as AlertChange['change'],
      from: r.from_level === null ? null : toLevel(r.from_level),
      to: toLevel(r.to_level),
      actor: r.actor,
      at: r.at,
      note: r.note,
      evidence: r.evidence === null ? null : (JSON.parse(r.evidence) as Alert['evidence']),
    }));
  }

  saveDetectionState(ruleId: string, state: unknown, at: string): void {
    this.stmts.saveState.run(ruleId, JSON.stringify(state), at);
  }

  /** Raw persisted states by rule id; the caller validates them. */
  detectionStates(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const row of this.stmts.states.all()) {
      try {
        out.set(row.rule_id, JSON.parse(row.state));
      } catch {
        out.set(row.rule_id, null);
      }
    }
    return out;
  }

  /** A value of `alert_engine_meta`, parsed from JSON; undefined when absent or unreadable. */
  getMeta(key: string): unknown {
    const row = this.stmts.getMeta.get(key);
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as unknown;
    } catch {
      return undefined;
    }
  }

  setMeta(key: string, value: unknown): void {
    this.stmts.setMeta.run(key, JSON.stringify(value));
  }

  /** How the rule's last alert was resolved: when, by whom, and the event time of its evidence. */
  lastResolution(ruleId: string): { resolvedAt: string; resolvedBy: string; evidenceTs: string } | null {
    const row = this.stmts.lastResolved.get(ruleId);
    if (!row) return null;
    let evidenceTs = row.resolved_at;
    try {
      evidenceTs = (JSON.parse(row.evidence) as Alert['evidence']).ts ?? row.resolved_at;
    } catch {
      // keep the resolve time
    }
    return { resolvedAt: row.resolved_at, resolvedBy: row.resolved_by, evidenceTs };
  }

  /** Alerts ever opened and the highest level any reached. */
  totals(): { raised: number; maxLevel: Level } {
    const row = this.stmts.totals.get()!;
    const levels = (row.levels ?? '').split(',').map(toLevel);
    const max = LEVELS.filter((l) => levels.includes(l)).at(-1) ?? 'Normal';
    return { raised: row.n, maxLevel: max };
  }
}
