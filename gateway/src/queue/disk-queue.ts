/**
 * Durable forward queue of readings in SQLite. A reading is appended (committed, fsynced)
 * before it is published and removed only when the server's ack covers it.
 *
 * Bound and policy (also in gateway/README.md): at most `maxReadings` rows. When an append
 * would exceed it, the OLDEST rows are deleted in the same transaction, counted in `dropped`,
 * and a warning is logged (at most once a minute). Newest data wins because an early-warning
 * system needs the current river level more than last week's backlog.
 */
import type { Reading } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { GatewayDatabase } from './database.ts';

export interface QueuedReading {
  id: number;
  reading: Reading;
}

export interface DiskQueueOptions {
  maxReadings: number;
  /** Wall clock in ms, for the age of the oldest row. */
  nowMs?: () => number;
  logger?: Logger;
}

const DROP_WARN_INTERVAL_MS = 60_000;

export class DiskQueue {
  /** Readings deleted unsent because the queue was full. */
  dropped = 0;
  private count: number;
  private newest: number;
  private lastDropWarnMs = -Infinity;
  private readonly nowMs: () => number;
  private readonly stmts;
  private readonly appendTx;

  constructor(
    private readonly db: GatewayDatabase,
    private readonly opts: DiskQueueOptions,
  ) {
    this.nowMs = opts.nowMs ?? Date.now;
    this.stmts = {
      insert: db.prepare('INSERT INTO readings (enqueued_ms, reading) VALUES (?, ?)'),
      dropOldest: db.prepare('DELETE FROM readings WHERE id IN (SELECT id FROM readings ORDER BY id LIMIT ?)'),
      peek: db.prepare('SELECT id, reading FROM readings WHERE id > ? ORDER BY id LIMIT ?'),
      range: db.prepare('SELECT id, reading FROM readings WHERE id BETWEEN ? AND ? ORDER BY id'),
      countRange: db.prepare('SELECT COUNT(*) AS n FROM readings WHERE id BETWEEN ? AND ?'),
      remove: db.prepare('DELETE FROM readings WHERE id = ?'),
      removeRange: db.prepare('DELETE FROM readings WHERE id BETWEEN ? AND ?'),
      oldest: db.prepare('SELECT enqueued_ms AS t FROM readings ORDER BY id LIMIT 1'),
      count: db.prepare('SELECT COUNT(*) AS n FROM readings'),
      newest: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'readings'"),
    };
    // COUNT(*) scans the table; with millions of rows that is too slow per call, so the depth is
    // counted once here and then kept in step with every change this object makes.
    this.count = this.countRows();
    this.newest = this.newestRowId();
    this.appendTx = db.transaction((readings: readonly Reading[]) => {
      const ids: number[] = [];
      const now = this.nowMs();
      for (const r of readings) ids.push(Number(this.stmts.insert.run(now, JSON.stringify(r)).lastInsertRowid));
      const excess = this.count + readings.length - this.opts.maxReadings;
      const dropped = excess > 0 ? this.stmts.dropOldest.run(excess).changes : 0;
      return { ids, dropped };
    });
  }

  /**
   * Appends readings in one transaction (a savepoint when called inside another transaction,
   * so the caller can commit sequence state with it). Returns the new row ids.
   */
  append(readings: readonly Reading[]): number[] {
    if (readings.length === 0) return [];
    const { ids, dropped } = this.appendTx(readings);
    this.count += readings.length - dropped;
    this.newest = ids.at(-1)!;
    if (dropped > 0) this.noteDropped(dropped);
    return ids;
  }

  /** Oldest rows with id > afterId, at most `max`. */
  peekBatch(max: number, afterId = 0): QueuedReading[] {
    return this.decode(this.stmts.peek.all(afterId, max) as Row[]);
  }

  /** Rows still queued with ids in [firstId, lastId], oldest first. */
  peekRange(firstId: number, lastId: number): QueuedReading[] {
    return this.decode(this.stmts.range.all(firstId, lastId) as Row[]);
  }

  /** Rows still queued with ids in [firstId, lastId]. */
  countRange(firstId: number, lastId: number): number {
    return (this.stmts.countRange.get(firstId, lastId) as { n: number }).n;
  }

  /** Removes the given rows; returns how many existed. */
  remove(ids: readonly number[]): number {
    const removed = this.db.transaction(() => ids.reduce((n, id) => n + this.stmts.remove.run(id).changes, 0))();
    this.count -= removed;
    return removed;
  }

  /** Removes every row with id in [firstId, lastId]; returns how many existed. */
  removeRange(firstId: number, lastId: number): number {
    const removed = this.stmts.removeRange.run(firstId, lastId).changes;
    this.count -= removed;
    return removed;
  }

  /** Highest row id ever appended (0 if none): rows above a given id number at most newestId() - id. */
  newestId(): number {
    return this.newest;
  }

  depth(): number {
    return this.count;
  }

  /** Seconds the oldest queued reading has waited, or null when the queue is empty. */
  oldestAgeS(): number | null {
    const row = this.stmts.oldest.get() as { t: number } | undefined;
    return row ? Math.max(0, (this.nowMs() - row.t) / 1000) : null;
  }

  /** Recounts after an enclosing transaction rolled back (the cached depth may be off). */
  resync(): void {
    this.count = this.countRows();
    this.newest = this.newestRowId();
  }

  private newestRowId(): number {
    return (this.stmts.newest.get() as { seq: number } | undefined)?.seq ?? 0;
  }

  private countRows(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }

  private decode(rows: Row[]): QueuedReading[] {
    const out: QueuedReading[] = [];
    for (const r of rows) {
      try {
        out.push({ id: r.id, reading: JSON.parse(r.reading) as Reading });
      } catch {
        // Only a damaged file gets here (we wrote the JSON ourselves). Drop the row rather than
        // block the queue behind it for ever, and say so.
        this.count -= this.stmts.remove.run(r.id).changes;
        this.dropped++;
        this.opts.logger?.error({ id: r.id }, 'unreadable queued reading dropped');
      }
    }
    return out;
  }

  private noteDropped(n: number): void {
    this.dropped += n;
    const now = this.nowMs();
    if (now - this.lastDropWarnMs < DROP_WARN_INTERVAL_MS) return;
    this.lastDropWarnMs = now;
    this.opts.logger?.warn({ droppedNow: n, droppedTotal: this.dropped, maxReadings: this.opts.maxReadings }, 'queue full: oldest readings dropped');
  }
}

interface Row {
  id: number;
  reading: string;
}
