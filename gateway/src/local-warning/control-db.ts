/**
 * The gateway's control database, `<dataDir>/control.sqlite`, apart from the reading queue's
 * file: the applied remote configuration, local alarm records waiting for upload and the local
 * detector's state. Same durability as the queue (WAL, synchronous=FULL): a recorded alarm or an
 * applied config survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

export const CONTROL_DATABASE_FILE = 'control.sqlite';
export type ControlDatabase = Database.Database;

export function openControlDatabase(dataDir: string): ControlDatabase {
  const path = join(dataDir, CONTROL_DATABASE_FILE);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS control_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS applied_config (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        config_json TEXT NOT NULL,
        applied_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS local_alarms (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        alarm_json TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS detector_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        rules_json TEXT NOT NULL,
        snapshot_json TEXT NOT NULL
      );
    `);
    // A random id per file: alarm ids are `<fileId>-<row>`, so a new file never reuses an old id.
    db.prepare('INSERT OR IGNORE INTO control_meta (key, value) VALUES (?, ?)').run('file_id', randomBytes(4).toString('hex'));
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function controlFileId(db: ControlDatabase): string {
  return (db.prepare("SELECT value FROM control_meta WHERE key = 'file_id'").get() as { value: string }).value;
}
