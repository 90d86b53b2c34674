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
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'superseded', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT,
  recipient_id TEXT NOT NULL DEFAULT '',
  recipient_role TEXT,
  text TEXT,
  subject TEXT
);`;
}

// `_due` serves the scan for due rows; the partial `_order` index (pending rows only, so it
// stays as small as the backlog) answers "is there an older pending row of this alert, channel
// and recipient?" and the superseding update with one seek each; `_alert` serves delivery status.
const INDEXES = `
CREATE INDEX IF NOT EXISTS ${TABLE}_due ON ${TABLE}(channel_id, status, next_attempt_at);
DROP INDEX IF EXISTS ${TABLE}_order;
CREATE INDEX IF NOT EXISTS ${TABLE}_order2 ON ${TABLE}(channel_id, alert_id, recipient_id, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS ${TABLE}_alert ON ${TABLE}(alert_id, status);
`;

/**
 * Databases created before per-recipient rows (or before `superseded`) have fewer columns and a
 * CHECK that rejects the newer statuses. SQLite cannot alter a CHECK, so the table is rebuilt
 * (SQLite's documented copy, drop, rename procedure) in one transaction; ids, and so the
 * delivery order, are kept. Old rows are system rows (recipient '').
 */
function migrate(db: Database.Database): void {
  const existing = db
    .prepare<[string], { sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`)
    .get(TABLE);
  if (existing === undefined || existing.sql.includes('recipient_id')) return;
  db.transaction(() => {
    db.exec(`DROP TABLE IF EXISTS ${TABLE}_new;${tableSql(`${TABLE}_new`)}`);
    db.exec(`INSERT INTO ${TABLE}_new (id, dedupe_key, channel_id, channel_kind, alert_id, change, payload, status, attempts,
      next_attempt_at, last_error, created_at, sent_at) SELECT id, dedupe_key, channel_id, channel_kind, alert_id, change, payload,
      status, attempts, next_attempt_at, last_error, created_at, sent_at FROM ${TABLE}`);
    db.exec(`DROP TABLE ${TABLE}; ALTER TABLE ${TABLE}_new RENAME TO ${TABLE};`);
  })();
}

/**
 * Kick listeners per database: a row enqueued through any `Outbox` of a database (the engine's,
 * or the subscription API's confirmation codes) wakes the dispatcher of that database. The kick
 * runs in a microtask, so after the enqueuing (synchronous) transaction has committed.
 */
const enqueueListeners = new WeakMap<Database.Database, Set<() => void>>();

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

/**
 * `superseded`: never sent because a newer message of the same alert and channel made it stale.
 * `cancelled`: never sent because its recipient left (unsubscribed, or removed from config).
 */
export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'superseded' | 'cancelled';
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ['pending', 'sent', 'failed', 'superseded', 'cancelled'];

/** What a row is about: an alert change, or (alert id `subscription:<id>`) a confirmation code. */
export type OutboxChange = NotifiableChange | 'confirm';

export interface OutboxRow {
  id: number;
  dedupeKey: string;
  channelId: string;
  channelKind: string;
  alertId: string;
  change: OutboxChange;
  payload: NotificationPayload;
  status: OutboxStatus;
  attempts: number;
  /** ms since epoch. */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  /** '' for system channels (webhook, console); else the recipient id (never an address). */
  recipientId: string;
  recipientRole: string | null;
  /** Text rendered for the recipient (language, one SMS), null for system rows. */
  text: string | null;
  subject: string | null;
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
  recipient_id: string;
  recipient_role: string | null;
  text: string | null;
  subject: string | null;
}

/** Payloads repeat across the rows of one fan-out: parse each distinct one once. */
function fromRow(r: Row, cache?: Map<string, NotificationPayload>): OutboxRow {
  let payload = cache?.get(r.payload);
  if (payload === undefined) {
    payload = JSON.parse(r.payload) as NotificationPayload;
    cache?.set(r.payload, payload);
  }
  return {
    id: r.id,
    dedupeKey: r.dedupe_key,
    channelId: r.channel_id,
    channelKind: r.channel_kind,
    alertId: r.alert_id,
    change: r.change as OutboxChange,
    payload,
    status: r.status as OutboxStatus,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    recipientId: r.recipient_id,
    recipientRole: r.recipient_role,
    text: r.text,
    subject: r.subject,
  };
}

/** Errors stored with a row are cut so a hostile endpoint cannot bloat the database. */
const MAX_ERROR_CHARS = 500;

/** `o` is the oldest pending row of its alert, channel and recipient (rows behind it are held). */
const IS_HEAD = `NOT EXISTS (SELECT 1 FROM ${TABLE} AS older
  WHERE older.status = 'pending' AND older.channel_id = o.channel_id AND older.alert_id = o.alert_id
    AND older.recipient_id = o.recipient_id AND older.id < o.id)`;

/** A newer pending row of `o`'s alert, channel and recipient exists. */
const HAS_NEWER = `EXISTS (SELECT 1 FROM ${TABLE} AS newer
  WHERE newer.status = 'pending' AND newer.channel_id = o.channel_id AND newer.alert_id = o.alert_id
    AND newer.recipient_id = o.recipient_id AND newer.id > o.id)`;

const SUPERSEDABLE_JSON = JSON.stringify(SUPERSEDABLE);

/** One row to queue. */
export interface EnqueueRow {
  dedupeKey: string;
  channelId: string;
  channelKind: string;
  payload: NotificationPayload;
  recipientId?: string;
  recipientRole?: string;
  text?: string;
  subject?: string;
  /** Row kind; default `payload.change`. */
  change?: OutboxChange;
  /** Default `payload.alert.id`. */
  alertId?: string;
}

/** The outcome of one send, applied in a batch (see `applyResults`). */
export type SendResult =
  | { id: number; outcome: 'sent'; attempts: number; at: Date }
  | { id: number; outcome: 'retry'; attempts: number; nextAttemptAtMs: number; error: string }
  | { id: number; outcome: 'failed'; attempts: number; error: string }
  | { id: number; outcome: 'deferred'; nextAttemptAtMs: number }
  | { id: number; outcome: 'cancelled'; reason: string };

/** Delivery status of one alert, per channel (API). */
export interface DeliverySummary {
  channelId: string;
  channelKind: string;
  counts: Record<OutboxStatus, number>;
}

export class Outbox {
  private readonly stmts;

  constructor(readonly db: Database.Database) {
    migrate(db);
    db.exec(tableSql(TABLE) + INDEXES);
    this.stmts = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO ${TABLE}
          (dedupe_key, channel_id, channel_kind, alert_id, change, payload, status, attempts, next_attempt_at, created_at,
           recipient_id, recipient_role, text, subject)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?)`,
      ),
      // Stale = a supersedable change with a newer pending row of its alert, channel and recipient.
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
      deferred: db.prepare(`UPDATE ${TABLE} SET next_attempt_at = ? WHERE id = ? AND status = 'pending'`),
      cancelled: db.prepare(`UPDATE ${TABLE} SET status = 'cancelled', last_error = ? WHERE id = ? AND status = 'pending'`),
      failed: db.prepare(
        `UPDATE ${TABLE} SET status = CASE status WHEN 'pending' THEN 'failed' ELSE status END, attempts = ?, last_error = ?
         WHERE id = ?`,
      ),
      orphans: db.prepare<[string], unknown>(
        `UPDATE ${TABLE} SET status = 'failed', last_error = 'channel not configured'
         WHERE status = 'pending' AND channel_id NOT IN (SELECT value FROM json_each(?))`,
      ),
      pending: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${TABLE} INDEXED BY ${TABLE}_order2 WHERE status = 'pending'`),
      counts: db.prepare<[], { status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM ${TABLE} GROUP BY status`),
      byAlert: db.prepare<[string], Row>(`SELECT * FROM ${TABLE} WHERE alert_id = ? ORDER BY id`),
      summary: db.prepare<[string], { channel_id: string; channel_kind: string; status: string; n: number }>(
        `SELECT channel_id, channel_kind, status, COUNT(*) AS n FROM ${TABLE} WHERE alert_id = ?
         GROUP BY channel_id, channel_kind, status ORDER BY channel_id`,
      ),
      page: db.prepare<[{ alertId: string; status: string; limit: number; offset: number }], Row>(
        `SELECT * FROM ${TABLE} WHERE alert_id = @alertId AND (@status = '' OR status = @status) ORDER BY id LIMIT @limit OFFSET @offset`,
      ),
    };
  }

  /** Calls `fn` (in a microtask) whenever a row is queued on this database. Returns an unsubscribe. */
  onEnqueue(fn: () => void): () => void {
    let set = enqueueListeners.get(this.db);
    if (!set) enqueueListeners.set(this.db, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  private announce(): void {
    const set = enqueueListeners.get(this.db);
    if (!set || set.size === 0) return;
    queueMicrotask(() => {
      for (const fn of set) fn();
    });
  }

  /** Queues one notification; false when the dedupe key was already queued. */
  enqueue(row: EnqueueRow, now: Date): boolean {
    return this.enqueueMany([row], now) === 1;
  }

  /**
   * Queues many rows (one fan-out) with one prepared statement; the caller's transaction makes
   * them atomic. Payload JSON is serialised once per distinct payload object. Returns rows written.
   */
  enqueueMany(rows: readonly EnqueueRow[], now: Date): number {
    const nowMs = now.getTime();
    const nowIso = now.toISOString();
    const json = new Map<NotificationPayload, string>();
    let written = 0;
    for (const row of rows) {
      let payload = json.get(row.payload);
      if (payload === undefined) json.set(row.payload, (payload = JSON.stringify(row.payload)));
      const res = this.stmts.insert.run(
        row.dedupeKey,
        row.channelId,
        row.channelKind,
        row.alertId ?? row.payload.alert.id,
        row.change ?? row.payload.change,
        payload,
        nowMs,
        nowIso,
        row.recipientId ?? '',
        row.recipientRole ?? null,
        row.text ?? null,
        row.subject ?? null,
      );
      written += res.changes;
    }
    if (written > 0) this.announce();
    return written;
  }

  /**
   * Marks the channel's stale pending rows `superseded` (see the file comment), including ones
   * held or backing off, so they never hold a newer message back; returns how many.
   */
  supersedeStale(channelId: string): number {
    return this.stmts.supersedeChannel.run(channelId, SUPERSEDABLE_JSON).changes;
  }

  /** The same check for one row right before it is sent; true when it was superseded. */
  supersedeIfStale(id: number, change?: OutboxChange): boolean {
    // Only de-escalations can be stale: skip the write for everything else (the fan-out's hot path).
    if (change !== undefined && !(SUPERSEDABLE as readonly string[]).includes(change)) return false;
    return this.stmts.supersedeRow.run(id, SUPERSEDABLE_JSON).changes === 1;
  }

  /**
   * Up to `limit` rows of the channel that are due at `nowMs`, earliest first: at most one per
   * alert and recipient (the oldest pending one); rows behind it are held.
   */
  due(channelId: string, nowMs: number, limit: number): OutboxRow[] {
    const cache = new Map<string, NotificationPayload>();
    return this.stmts.due.all(channelId, nowMs, limit).map((r) => fromRow(r, cache));
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

  /**
   * Applies many send outcomes in one transaction (one commit per batch instead of one per
   * message; this is what makes a 10,000-recipient fan-out take seconds).
   *
   * Durability: in WAL mode these commits use `synchronous = NORMAL` (no fsync; restored right
   * after). A status mark lost to a power cut can only make a message go out again with the same
   * Idempotency-Key, never lose one: the rows themselves were committed with the server's
   * `synchronous = FULL` when the alert change was written. A killed process (SIGKILL) loses
   * nothing committed in WAL mode either way (SQLite, "WAL mode" and "PRAGMA synchronous").
   */
  applyResults(results: readonly SendResult[]): void {
    if (results.length === 0) return;
    const relax = this.walMode();
    const previous = relax ? (this.db.pragma('synchronous', { simple: true }) as number) : 0;
    if (relax && previous > 1) this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(() => {
        for (const r of results) {
          switch (r.outcome) {
            case 'sent':
              this.stmts.sent.run(r.attempts, r.at.toISOString(), r.id);
              break;
            case 'retry':
              this.stmts.retry.run(r.attempts, r.nextAttemptAtMs, r.error.slice(0, MAX_ERROR_CHARS), r.id);
              break;
            case 'failed':
              this.stmts.failed.run(r.attempts, r.error.slice(0, MAX_ERROR_CHARS), r.id);
              break;
            case 'deferred':
              this.stmts.deferred.run(r.nextAttemptAtMs, r.id);
              break;
            case 'cancelled':
              this.stmts.cancelled.run(r.reason.slice(0, MAX_ERROR_CHARS), r.id);
              break;
          }
        }
      })();
    } finally {
      if (relax && previous > 1) this.db.pragma(`synchronous = ${previous}`);
    }
  }

  private wal: boolean | null = null;
  private walMode(): boolean {
    this.wal ??= String(this.db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    return this.wal;
  }

  /** Pending rows of channels that are no longer configured can never be sent: fail them. */
  failOrphans(channelIds: readonly string[]): number {
    return this.stmts.orphans.run(JSON.stringify(channelIds)).changes;
  }

  /** Rows still pending (reads only the small partial index of pending rows). */
  pendingCount(): number {
    return this.stmts.pending.get()!.n;
  }

  counts(): Record<OutboxStatus, number> {
    const out = emptyCounts();
    for (const r of this.stmts.counts.all()) out[r.status as OutboxStatus] = r.n;
    return out;
  }

  forAlert(alertId: string): OutboxRow[] {
    return this.stmts.byAlert.all(alertId).map((r) => fromRow(r));
  }

  /** Rows of one alert per channel and status (the delivery status API). */
  deliverySummary(alertId: string): DeliverySummary[] {
    const out = new Map<string, DeliverySummary>();
    for (const r of this.stmts.summary.all(alertId)) {
      let s = out.get(r.channel_id);
      if (!s) out.set(r.channel_id, (s = { channelId: r.channel_id, channelKind: r.channel_kind, counts: emptyCounts() }));
      s.counts[r.status as OutboxStatus] += r.n;
    }
    return [...out.values()];
  }

  /** One page of an alert's rows, optionally of one status, oldest first. */
  deliveryPage(alertId: string, status: OutboxStatus | '', limit: number, offset: number): OutboxRow[] {
    return this.stmts.page.all({ alertId, status, limit, offset }).map((r) => fromRow(r));
  }
}

function emptyCounts(): Record<OutboxStatus, number> {
  return { pending: 0, sent: 0, failed: 0, superseded: 0, cancelled: 0 };
}
