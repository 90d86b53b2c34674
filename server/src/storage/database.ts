/**
 * Opens the server's one SQLite file, `<dataDir>/kentongan.db`, shared by the reading store,
 * the gateway state and the alert engine.
 *
 * Durability choice: WAL journal with `synchronous = FULL`. The server acknowledges a batch to
 * the gateway only after its transaction commits, and the gateway then deletes the batch from
 * its own disk queue; with `NORMAL`, a power cut (a Raspberry Pi on solar and battery) could
 * roll back commits that were already acknowledged, and those readings would be lost for good.
 * `FULL` costs one fsync per batch transaction, which batching keeps cheap.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../errors.ts';
import { migrate } from './migrations.ts';

export const DATABASE_FILE = 'kentongan.db';

export function openDatabase(dataDir: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(join(dataDir, DATABASE_FILE));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Another connection (a backup tool, sqlite3 shell) may hold a lock briefly.
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof StorageError) throw err;
    throw new StorageError('STORAGE_OPEN_FAILED', `cannot open database in ${dataDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
