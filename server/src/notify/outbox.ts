/**
 * The persistent notification outbox (transactional outbox pattern): rows are written in the
 * same SQLite transaction as the alert change that causes them, so a crash can neither lose a
 * notification nor send one for a change that was rolled back. The dispatcher sends them later.
 * `dedupe_key` is UNIQUE: enqueueing the same change twice is a no-op.
 *
 * Order: per (alert, channel) rows go out in creation (`id`) order. A row is due only when it is
 * the oldest pending row of its alert and channel (the "head") and its `next_attempt_at` has
 * come; the rows behind a head that is backing off wait and go right after it is sent or
 * finally failed. Otherwise a retried AWAS could reach residents after the all-clear that
 * followed it. Other alerts and other channels are never held.
 *
 * Superseding: when the dispatcher gets to a pending `deescalated` row while a newer row of the
 * same alert and channel is queued, it marks it `superseded` instead of sending it (a stale "down
 * to Siaga" says nothing once a newer level or the all-clear is queued, and it must not hold a new
 * escalation back). `opened`, `escalated` and `resolved` rows are never superseded: an evacuation
 * call is always delivered, late rather than never, and always before what followed it. Nothing
 * is decided while the dispatcher is stopped.
 */
import type Database from 'better-sqlite3';
import type { Level } from '@kentongan/firmware-protocol';
import type { Alert } from '../alerts/types.ts';
import type { Message, NotifiableChange } from './messages.ts';

const TABLE = 'outbox_notifications';

function tableSql(name: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  dedupe_key TEXT NOT NULL UNIQUE,
  channel_id TEXT NOT NULL,
  channel_kind TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  change TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'superseded')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT
);`;
}

// `_due` serves the scan for due rows; the partial `_order` index (pending rows only, so it
// stays as small as the backlog) answers "is there an older pending row of this alert and
// channel?" and the superseding update with one seek each.
const INDEXES = `
CREATE INDEX IF NOT EXISTS ${TABLE}_due ON ${TABLE}(channel_id, status, next_attempt_at);
CREATE INDEX IF NOT EXISTS ${TABLE}_order ON ${TABLE}(channel_id, alert_id, id) WHERE status = 'pending';
`;

/**
 * Databases created before the `superseded` status have a CHECK that rejects it. SQLite cannot
 * alter a CHECK, so the table is rebuilt (SQLite's documented copy, drop, rename procedure) in
 * one transaction; ids, and so the delivery order, are kept.
 */
function migrate(db: Database.Database): void {
  const existing = db
    .prepare<[string], { sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`)
    .get(TABLE);
  if (existing === undefined || existing.sql.includes("'superseded'")) return;
  db.transaction(() => {
    db.exec(`DROP TABLE IF EXISTS ${TABLE}_new;${tableSql(`${TABLE}_new`)}`);
    db.exec(`INSERT INTO ${TABLE}_new SELECT id, dedupe_key, channel_id, channel_kind, alert_id, change, payload,
      status, attempts, next_attempt_at, last_error, created_at, sent_at FROM ${TABLE}`);
    db.exec(`DROP TABLE ${TABLE}; ALTER TABLE ${TABLE}_new RENAME TO ${TABLE};`);
  })();
}

/** Changes a newer message of the same alert and channel makes pointless to send. */
const SUPERSEDABLE: readonly NotifiableChange[] = ['deescalated'];

/** What a channel delivers: a snapshot taken when the change happened. */
export interface NotificationPayload {
  v: 1;
  alert: Alert;
  change: NotifiableChange;
  from: Level | null;
  to: Level;
  actor: string;
  /** When the change happened, UTC ISO. */
  at: string;
  message: Message;
}

/** `superseded`: never sent because a newer message of the same alert and channel made it stale. */
export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'superseded';

export interface OutboxRow {
  id: number;
  dedupeKey: string;
  channelId: string;
  channelKind: string;
  alertId: string;
  change: NotifiableChange;
  payload: NotificationPayload;
  status: OutboxStatus;
  attempts: number;
  /** ms since epoch. */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

interface Row {
  id: number;
  dedupe_key: string;
  channel_id: string;
  channel_kind: string;
  alert_id: string;
  change: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

function fromRow(r: Row): OutboxRow {
  return {
    id: r.id,
    dedupeKey: r.dedupe_key,
    channelId: r.channel_id,
    channelKind: r.channel_kind,
    alertId: r.alert_id,
    change: r.change as NotifiableChange,
    payload: JSON.parse(r.payload) as NotificationPayload,
    status: r.status as OutboxStatus,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}

/** Errors stored with a row are cut so a hostile endpoint cannot bloat the database. */
const MAX_ERROR_CHARS = 500;

/** `o` is the oldest pending row of its alert and channel (rows behind it are held). */
const IS_HEAD = `NOT EXISTS (SELECT 1 FROM ${TABLE} AS older
  WHERE older.status = 'pending' AND older.channel_id = o.channel_id AND older.alert_id = o.alert_id AND older.id < o.id)`;

/** A newer pending row of `o`'s alert and channel exists. */
const HAS_NEWER = `EXISTS (SELECT 1 FROM ${TABLE} AS newer
  WHERE newer.status = 'pending' AND newer.channel_id = o.channel_id AND newer.alert_id = o.alert_id AND newer.id > o.id)`;

const SUPERSEDABLE_JSON = JSON.stringify(SUPERSEDABLE);

export class Outbox {
  private readonly stmts;

  constructor(db: Database.Database) {
    migrate(db);
    db.exec(tableSql(TABLE) + INDEXES);
    this.stmts = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO ${TABLE}
          (dedupe_key, channel_id, channel_kind, alert_id, change, payload, status, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      ),
      // Stale = a supersedable change with a newer pending row of its alert and channel.
      supersedeChannel: db.prepare<[string, string], unknown>(
        `UPDATE ${TABLE} AS o SET status = 'superseded'
         WHERE o.channel_id = ? AND o.status = 'pending' AND o.change IN (SELECT value FROM json_each(?)) AND ${HAS_NEWER}`,
      ),
      supersedeRow: db.prepare<[number, string], unknown>(
        `UPDATE ${TABLE} AS o SET status = 'superseded'
         WHERE o.id = ? AND o.status = 'pending' AND o.change IN (SELECT value FROM json_each(?)) AND ${HAS_NEWER}`,
      ),
      due: db.prepare<[string, number, number], Row>(
        `SELECT o.* FROM ${TABLE} AS o
         WHERE o.channel_id = ? AND o.status = 'pending' AND o.next_attempt_at <= ? AND ${IS_HEAD}
         ORDER BY o.next_attempt_at, o.id LIMIT ?`,
      ),
      nextDue: db.prepare<[string], { t: number | null }>(
        `SELECT MIN(o.next_attempt_at) AS t FROM ${TABLE} AS o WHERE o.channel_id = ? AND o.status = 'pending' AND ${IS_HEAD}`,
      ),
      // Defensive: should a row be superseded while its send is in flight, a success is still
      // recorded as `sent` (it was delivered) and a failure keeps `superseded`.
      sent: db.prepare(`UPDATE ${TABLE} SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL WHERE id = ?`),
      retry: db.prepare(`UPDATE ${TABLE} SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?`),
      failed: db.prepare(
        `UPDATE ${TABLE} SET status = CASE status WHEN 'pending' THEN 'failed' ELSE status END, attempts = ?, last_error = ?
         WHERE id = ?`,
      ),
      orphans: db.prepare<[string], unknown>(
        `UPDATE ${TABLE} SET status = 'failed', last_error = 'channel not configured'
         WHERE status = 'pending' AND channel_id NOT IN (SELECT value FROM json_each(?))`,
      ),
      counts: db.prepare<[], { status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM ${TABLE} GROUP BY status`),
      byAlert: db.prepare<[string], Row>(`SELECT * FROM ${TABLE} WHERE alert_id = ? ORDER BY id`),
    };
  }

  /** Queues one notification; false when the dedupe key was already queued. */
  enqueue(
    row: { dedupeKey: string; channelId: string; channelKind: string; payload: NotificationPayload },
    now: Date,
  ): boolean {
    const res = this.stmts.insert.run(
      row.dedupeKey,
      row.channelId,
      row.channelKind,
      row.payload.alert.id,
      row.payload.change,
      JSON.stringify(row.payload),
      now.getTime(),
      now.toISOString(),
    );
    return res.changes === 1;
  }

  /**
   * Marks the channel's stale pending rows `superseded` (see the file comment), including ones
   * held or backing off, so they never hold a newer message back; returns how many.
   */
  supersedeStale(channelId: string): number {
    return this.stmts.supersedeChannel.run(channelId, SUPERSEDABLE_JSON).changes;
  }

  /** The same check for one row right before it is sent; true when it was superseded. */
  supersedeIfStale(id: number): boolean {
    return this.stmts.supersedeRow.run(id, SUPERSEDABLE_JSON).changes === 1;
  }

  /**
   * Up to `limit` rows of the channel that are due at `nowMs`, earliest first: at most one per
   * alert (the oldest pending one); rows behind it are held.
   */
  due(channelId: string, nowMs: number, limit: number): OutboxRow[] {
    return this.stmts.due.all(channelId, nowMs, limit).map(fromRow);
  }

  /**
   * Earliest next attempt among the channel's sendable rows (ms), or null when none is pending.
   * Held rows do not count: their own (past) time would wake the dispatcher for nothing.
   */
  nextDueAt(channelId: string): number | null {
    return this.stmts.nextDue.get(channelId)?.t ?? null;
  }

  markSent(id: number, attempts: number, at: Date): void {
    this.stmts.sent.run(attempts, at.toISOString(), id);
  }

  markRetry(id: number, attempts: number, nextAttemptAtMs: number, error: string): void {
    this.stmts.retry.run(attempts, nextAttemptAtMs, error.slice(0, MAX_ERROR_CHARS), id);
  }

  markFailed(id: number, attempts: number, error: string): void {
    this.stmts.failed.run(attempts, error.slice(0, MAX_ERROR_CHARS), id);
  }

  /** Pending rows of channels that are no longer configured can never be sent: fail them. */
  failOrphans(channelIds: readonly string[]): number {
    return this.stmts.orphans.run(JSON.stringify(channelIds)).changes;
  }

  counts(): Record<OutboxStatus, number> {
    const out: Record<OutboxStatus, number> = { pending: 0, sent: 0, failed: 0, superseded: 0 };
    for (const r of this.stmts.counts.all()) out[r.status as OutboxStatus] = r.n;
    return out;
  }

  forAlert(alertId: string): OutboxRow[] {
    return this.stmts.byAlert.all(alertId).map(fromRow);
  }
}
