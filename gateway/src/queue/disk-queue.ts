/**
 * Durable forward queue of readings in SQLite. A reading is appended (committed, fsynced)
 * before it is published and removed only when the server's ack covers it.
 *
 * Bound and policy (also in gateway/README.md, "Queue bound and policy"): at most `maxReadings`
 * rows. When an append would exceed it, rows are deleted in the same transaction in this order:
 *   1. the oldest readings of drop class 0 (device health: battery_voltage, temperature and any
 *      quantity that is not a hazard measurement),
 *   2. only when no class-0 row is left, the oldest readings of class 1 (hazard: rain,
 *      water_level, displacement, tilt_x, tilt_y).
 * Every deletion is counted (`dropped`, split by class, and a running total kept in the file so
 * it survives restarts) and a warning is logged at most once a minute. Newest data wins within a
 * class because an early-warning system needs the current river level more than last week's
 * backlog; hazard data wins over health data because it is what detection and the record need.
 */
import type { Quantity, Reading } from '@kentongan/firmware-protocol';
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

/** Quantities the queue bound keeps longest (drop class 1): what detection and the record need. */
export const HAZARD_QUANTITIES: ReadonlySet<Quantity> = new Set<Quantity>(['rain', 'water_level', 'displacement', 'tilt_x', 'tilt_y']);

/** Drop class of a reading: 1 for hazard quantities, 0 (dropped first) for everything else. */
export function dropClassOf(r: Reading): 0 | 1 {
  return HAZARD_QUANTITIES.has(r.quantity) ? 1 : 0;
}

/** Readings deleted unsent by the queue bound, by drop class. */
export interface DroppedCounts {
  /** Device-health readings (class 0) dropped since this process started. */
  health: number;
  /** Hazard readings (class 1) dropped since this process started. */
  hazard: number;
  /** Every reading dropped since the database file was created (kept in the file). */
  total: number;
}

const DROP_WARN_INTERVAL_MS = 60_000;
const DROPPED_TOTAL_KEY = 'dropped_total';

export class DiskQueue {
  private readonly droppedNow = { health: 0, hazard: 0, unreadable: 0 };
  private droppedTotal: number;
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
      insert: db.prepare('INSERT INTO readings (enqueued_ms, reading, drop_class) VALUES (?, ?, ?)'),
      // Both use the (drop_class, id) index: the oldest rows of one class without a scan.
      dropOldestOf: db.prepare('DELETE FROM readings WHERE id IN (SELECT id FROM readings WHERE drop_class = ? ORDER BY id LIMIT ?)'),
      peek: db.prepare('SELECT id, reading FROM readings WHERE id > ? ORDER BY id LIMIT ?'),
      between: db.prepare('SELECT id, reading FROM readings WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      range: db.prepare('SELECT id, reading FROM readings WHERE id BETWEEN ? AND ? ORDER BY id'),
      countRange: db.prepare('SELECT COUNT(*) AS n FROM readings WHERE id BETWEEN ? AND ?'),
      remove: db.prepare('DELETE FROM readings WHERE id = ?'),
      removeRange: db.prepare('DELETE FROM readings WHERE id BETWEEN ? AND ?'),
      oldest: db.prepare('SELECT enqueued_ms AS t FROM readings ORDER BY id LIMIT 1'),
      count: db.prepare('SELECT COUNT(*) AS n FROM readings'),
      newest: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'readings'"),
      getTotal: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setTotal: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
    // COUNT(*) scans the table; with millions of rows that is too slow per call, so the depth is
    // counted once here and then kept in step with every change this object makes.
    this.count = this.countRows();
    this.newest = this.newestRowId();
    this.droppedTotal = Number((this.stmts.getTotal.get(DROPPED_TOTAL_KEY) as { value: string } | undefined)?.value ?? 0) || 0;
    this.appendTx = db.transaction((readings: readonly Reading[]) => {
      const ids: number[] = [];
      const now = this.nowMs();
      for (const r of readings) ids.push(Number(this.stmts.insert.run(now, JSON.stringify(r), dropClassOf(r)).lastInsertRowid));
      const excess = this.count + readings.length - this.opts.maxReadings;
      if (excess <= 0) return { ids, health: 0, hazard: 0 };
      const health = this.stmts.dropOldestOf.run(0, excess).changes;
      const hazard = health < excess ? this.stmts.dropOldestOf.run(1, excess - health).changes : 0;
      this.stmts.setTotal.run(DROPPED_TOTAL_KEY, String(this.droppedTotal + health + hazard));
      return { ids, health, hazard };
    });
  }

  /**
   * Appends readings in one transaction (a savepoint when called inside another transaction,
   * so the caller can commit sequence state with it). Returns the new row ids.
   */
  append(readings: readonly Reading[]): number[] {
    if (readings.length === 0) return [];
    const { ids, health, hazard } = this.appendTx(readings);
    this.count += readings.length - health - hazard;
    this.newest = ids.at(-1)!;
    if (health + hazard > 0) this.noteDropped(health, hazard);
    return ids;
  }

  /** Readings deleted unsent since this process started (queue bound and unreadable rows). */
  get dropped(): number {
    return this.droppedNow.health + this.droppedNow.hazard + this.droppedNow.unreadable;
  }

  /** Dropped readings by class, and the total since the file was created. */
  droppedCounts(): DroppedCounts {
    return { health: this.droppedNow.health, hazard: this.droppedNow.hazard, total: this.droppedTotal };
  }

  /** Oldest rows with id > afterId, at most `max`. */
  peekBatch(max: number, afterId = 0): QueuedReading[] {
    return this.decode(this.stmts.peek.all(afterId, max) as Row[]);
  }

  /** Oldest rows with afterId < id <= upToId, at most `max`. */
  peekBetween(afterId: number, upToId: number, max: number): QueuedReading[] {
    return this.decode(this.stmts.between.all(afterId, upToId, max) as Row[]);
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
    this.droppedTotal = Number((this.stmts.getTotal.get(DROPPED_TOTAL_KEY) as { value: string } | undefined)?.value ?? 0) || 0;
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
        this.droppedNow.unreadable++;
        this.opts.logger?.error({ id: r.id }, 'unreadable queued reading dropped');
      }
    }
    return out;
  }

  private noteDropped(health: number, hazard: number): void {
    // The file's total was written in the append transaction; keep the in-memory copy in step.
    this.droppedTotal += health + hazard;
    this.droppedNow.health += health;
    this.droppedNow.hazard += hazard;
    const now = this.nowMs();
    if (now - this.lastDropWarnMs < DROP_WARN_INTERVAL_MS) return;
    this.lastDropWarnMs = now;
    this.opts.logger?.warn(
      { droppedHealthNow: health, droppedHazardNow: hazard, droppedTotal: this.droppedTotal, maxReadings: this.opts.maxReadings },
      'queue full: oldest readings dropped (device health first, then hazard)',
    );
  }
}

interface Row {
  id: number;
  reading: string;
}
