/**
 * The gateway's one SQLite file: the forward queue of readings and the per-sensor state that
 * must change together with it (sequence tracker, tipping-bucket counters). One file, so one
 * transaction covers a reading and the state that produced it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type GatewayDatabase = Database.Database;

const SCHEMA_VERSION = 1;

const SCHEMA_V1 = `
  CREATE TABLE readings (
    -- AUTOINCREMENT: ids are never reused, even after the newest rows were deleted, so a
    -- batch id made of its first and last row id names the same rows for ever.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    enqueued_ms INTEGER NOT NULL,
    reading TEXT NOT NULL
  );
  CREATE TABLE sensor_sequence (
    sensor_id TEXT PRIMARY KEY,
    epoch INTEGER NOT NULL,
    last_raw_seq INTEGER NOT NULL,
    wraps INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE tip_counter (
    sensor_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    last_counter INTEGER NOT NULL,
    PRIMARY KEY (sensor_id, channel)
  ) WITHOUT ROWID;
`;

/**
 * Opens (creating if needed) the database with the durability settings the reliability
 * promise needs: WAL so readers do not block the writer, and synchronous=FULL so a committed
 * transaction survives power loss (NORMAL in WAL mode may lose the last commits).
 */
export function openGatewayDatabase(file: string): GatewayDatabase {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`database ${file} has schema version ${version}, newer than this gateway (${SCHEMA_VERSION})`);
    }
    if (version < 1) {
      db.transaction(() => {
        db.exec(SCHEMA_V1);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
