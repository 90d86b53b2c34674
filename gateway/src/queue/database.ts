/**
 * The gateway's one SQLite file: the forward queue of readings and the per-sensor state that
 * must change together with it (sequence tracker, tipping-bucket counters). One file, so one
 * transaction covers a reading and the state that produced it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GatewayError } from '../errors.ts';

export type GatewayDatabase = Database.Database;

const SCHEMA_VERSION = 3;

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
 * Version 2: a `meta` table holding this database's queue id. Row ids restart at 1 in a new file
 * (lost database, new SD card) while the broker may still hold acks for the old file's batches
 * (persistent session); batch ids carry the queue id so such stale acks name no row here.
 */
const SCHEMA_V2 = `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
`;

/**
 * Version 3: a drop class per queued reading (the queue bound deletes class 0, device health,
 * before class 1, hazard readings; rows of older files count as hazard, the safe side), an index
 * so the oldest row of a class is found without a scan, and the last timestamp issued per sensor
 * (timestamps stay monotonic across reboots and a clock that went back; see ingest-store.ts).
 */
const SCHEMA_V3 = `
  ALTER TABLE readings ADD COLUMN drop_class INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX readings_drop_class ON readings (drop_class, id);
  CREATE TABLE sensor_clock (
    sensor_id TEXT PRIMARY KEY,
    last_ts_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** Key of the queue id in the `meta` table. */
const QUEUE_ID_KEY = 'queue_id';
/** A queue id is 8 lower-case hex digits (32 random bits), made once per database file. */
export const QUEUE_ID_PATTERN = /^[0-9a-f]{8}$/;

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
    if (version < SCHEMA_VERSION) {
      db.transaction(() => {
        if (version < 1) db.exec(SCHEMA_V1);
        if (version < 2) {
          db.exec(SCHEMA_V2);
          db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(QUEUE_ID_KEY, randomBytes(4).toString('hex'));
        }
        if (version < 3) db.exec(SCHEMA_V3);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** This database's queue id (made when the file was created or migrated; never changes). */
export function readQueueId(db: GatewayDatabase): string {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(QUEUE_ID_KEY) as { value: string } | undefined;
  if (!row || !QUEUE_ID_PATTERN.test(row.value)) {
    throw new GatewayError('database_invalid', 'gateway database has no valid queue id (damaged file?)');
  }
  return row.value;
}
