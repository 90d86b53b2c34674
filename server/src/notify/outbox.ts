/**
 * The persistent notification outbox (transactional outbox pattern): rows are written in the
 * same SQLite transaction as the alert change that causes them, so a crash can neither lose a
 * notification nor send one for a change that was rolled back. The dispatcher sends them later.
 * `dedupe_key` is UNIQUE: enqueueing the same change twice is a no-op.
 */
import type Database from 'better-sqlite3';
import type { Level } from '@kentongan/firmware-protocol';
import type { Alert } from '../alerts/types.ts';
import type { Message, NotifiableChange } from './messages.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  dedupe_key TEXT NOT NULL UNIQUE,
  channel_id TEXT NOT NULL,
  channel_kind TEXT NOT NULL,
  alert_id TEXT NOT NULL,
  change TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_notifications_due ON outbox_notifications(channel_id, status, next_attempt_at);
`;

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

export type OutboxStatus = 'pending' | 'sent' | 'failed';

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

export class Outbox {
  private readonly stmts;

  constructor(db: Database.Database) {
    db.exec(SCHEMA);
    this.stmts = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO outbox_notifications
          (dedupe_key, channel_id, channel_kind, alert_id, change, payload, status, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      ),
      due: db.prepare<[string, number, number], Row>(
        `SELECT * FROM outbox_notifications WHERE channel_id = ? AND status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
      ),
      nextDue: db.prepare<[string], { t: number | null }>(
        `SELECT MIN(next_attempt_at) AS t FROM outbox_notifications WHERE channel_id = ? AND status = 'pending'`,
      ),
      sent: db.prepare(`UPDATE outbox_notifications SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL WHERE id = ?`),
      retry: db.prepare(`UPDATE outbox_notifications SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?`),
      failed: db.prepare(`UPDATE outbox_notifications SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?`),
      orphans: db.prepare<[string], unknown>(
        `UPDATE outbox_notifications SET status = 'failed', last_error = 'channel not configured'
         WHERE status = 'pending' AND channel_id NOT IN (SELECT value FROM json_each(?))`,
      ),
      counts: db.prepare<[], { status: string; n: number }>(
        'SELECT status, COUNT(*) AS n FROM outbox_notifications GROUP BY status',
      ),
      byAlert: db.prepare<[string], Row>('SELECT * FROM outbox_notifications WHERE alert_id = ? ORDER BY id'),
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

  due(channelId: string, nowMs: number, limit: number): OutboxRow[] {
    return this.stmts.due.all(channelId, nowMs, limit).map(fromRow);
  }

  /** Earliest next attempt of a channel's pending rows (ms), or null when none is pending. */
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
    const out: Record<OutboxStatus, number> = { pending: 0, sent: 0, failed: 0 };
    for (const r of this.stmts.counts.all()) out[r.status as OutboxStatus] = r.n;
    return out;
  }

  forAlert(alertId: string): OutboxRow[] {
    return this.stmts.byAlert.all(alertId).map(fromRow);
  }
}
