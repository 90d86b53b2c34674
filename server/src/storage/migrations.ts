/**
 * Schema migrations of the server core's tables, versioned with SQLite's `PRAGMA user_version`.
 * Append only: a migration that shipped is never edited; a new version is a new entry.
 *
 * `user_version` belongs to these core tables. Other components that share the database file
 * (the alert engine) create their own tables with `CREATE TABLE IF NOT EXISTS` and must not
 * touch `user_version`.
 */
import type Database from 'better-sqlite3';
import { StorageError } from '../errors.ts';

const MIGRATIONS: readonly string[] = [
  // 1: readings, the latest value per sensor and quantity, sequence statistics, gateway state.
  `
  CREATE TABLE readings (
    id INTEGER PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    sensor_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    quantity TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    quality TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    -- The idempotency key (SPEC §5): a redelivered reading is ignored, not stored twice.
    UNIQUE (sensor_id, epoch, seq, quantity)
  );
  CREATE INDEX readings_by_time ON readings (sensor_id, quantity, ts_ms);

  -- Kept on insert so that "latest value" never scans history.
  CREATE TABLE latest_readings (
    sensor_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    reading_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (sensor_id, quantity)
  ) WITHOUT ROWID;

  -- Per sensor and epoch: the sequence span seen and how many distinct sequence numbers
  -- arrived; gaps = (max - min + 1) - distinct, which heals when a late reading fills a hole.
  CREATE TABLE sequence_stats (
    sensor_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    min_seq INTEGER NOT NULL,
    max_seq INTEGER NOT NULL,
    distinct_seqs INTEGER NOT NULL,
    last_received_ms INTEGER NOT NULL,
    PRIMARY KEY (sensor_id, epoch)
  ) WITHOUT ROWID;

  -- Running totals so that counts are O(1) (COUNT(*) scans the whole table).
  CREATE TABLE store_totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO store_totals (name, value) VALUES ('readings', 0);

  -- Last status (birth/will) and health message of each gateway, as JSON, for the API.
  CREATE TABLE gateway_state (
    gateway_id TEXT PRIMARY KEY,
    status_json TEXT,
    status_received_ms INTEGER,
    health_json TEXT,
    health_received_ms INTEGER,
    last_batch_ms INTEGER
  ) WITHOUT ROWID;
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database up to `SCHEMA_VERSION`, each step in its own transaction.
 * @throws StorageError when the file was written by a newer version of Kentongan.
 */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StorageError(
      'STORAGE_SCHEMA_TOO_NEW',
      `database schema version ${current} is newer than this server understands (${SCHEMA_VERSION})`,
    );
  }
  for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
    const sql = MIGRATIONS[version - 1]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
