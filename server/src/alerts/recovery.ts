/**
 * Closing the kill -9 window (issue 4, item 5). Ingest commits readings, acks them, then hands
 * them to the engine, whose own transaction follows. A SIGKILL between the two commits would
 * leave readings stored and acknowledged (the gateway never resends them) but never evaluated.
 *
 * So the engine keeps a watermark, the highest `readings.id` it has evaluated, in the same
 * transaction as its detector snapshot and alert rows. At start-up, readings above it are read
 * back from the store in pages and evaluated in event-time order, before any new reading.
 * (`readings.id` grows with every commit: rows are never deleted and ingest is the only writer.)
 */
import type Database from 'better-sqlite3';
import { toStored, type ReadingRow } from '../storage/sqlite-reading-store.ts';
import type { StoredReading } from './types.ts';

export const WATERMARK_KEY = 'evaluated_reading_id';
const PAGE = 2000;

interface Row extends ReadingRow {
  id: number;
}

/** Whether the database holds the reading store's table (tests may run the engine alone). */
export function hasReadings(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readings'`).get() !== undefined;
}

/** The highest reading id stored (0 when empty). */
export function maxReadingId(db: Database.Database): number {
  return (db.prepare('SELECT MAX(id) AS m FROM readings').get() as { m: number | null }).m ?? 0;
}

/**
 * Readings stored after `afterId`, in pages of id order (each page is then evaluated in event-time
 * order by the engine). Bounded memory: one page at a time.
 */
export function* readingsAfter(db: Database.Database, afterId: number): Generator<{ lastId: number; readings: StoredReading[] }> {
  const stmt = db.prepare<[number, number], Row>(
    `SELECT id, gateway_id, sensor_id, epoch, seq, quantity, value, unit, ts_ms, quality, received_ms
     FROM readings WHERE id > ? ORDER BY id LIMIT ?`,
  );
  let last = afterId;
  for (;;) {
    const rows = stmt.all(last, PAGE);
    if (rows.length === 0) return;
    last = rows[rows.length - 1]!.id;
    yield { lastId: last, readings: rows.map(toStored) };
  }
}
