import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readingSchema, type Reading, type ReadingInput } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openDatabase } from '../../src/storage/database.ts';
import { SCHEMA_VERSION } from '../../src/storage/migrations.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { StorageError } from '../../src/errors.ts';
import { tempDir, wl } from '../helpers/fixtures.ts';
import { describeReadingStoreContract } from './reading-store-contract.ts';

describeReadingStoreContract('SqliteReadingStore', async () => {
  const { dir, cleanup } = await tempDir();
  let db = openDatabase(dir);
  return {
    store: new SqliteReadingStore(db),
    reopen: async () => {
      db.close();
      db = openDatabase(dir);
      return new SqliteReadingStore(db);
    },
    close: async () => {
      if (db.open) db.close();
      await cleanup();
    },
  };
});

const parse = (r: ReadingInput): Reading => readingSchema.parse(r);
const at = new Date('2025-01-09T09:00:00.000Z');

describe('SqliteReadingStore specifics', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: Database.Database;
  let store: SqliteReadingStore;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    db = openDatabase(dir);
    store = new SqliteReadingStore(db);
  });
  afterEach(async () => {
    if (db.open) db.close();
    await cleanup();
  });

  it('opens in WAL mode with synchronous=FULL and the current schema version', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('rolls the whole batch back when one insert fails, so nothing is half-stored', () => {
    const bad = { ...parse(wl(2, 20)), value: null } as unknown as Reading; // NOT NULL violation
    expect(() => store.insertBatch('gw-a', [parse(wl(1, 10)), bad], at)).toThrow();
    expect(store.count()).toBe(0);
    expect(store.latest()).toEqual([]);
    expect(store.sequenceStats()).toEqual([]);
  });

  it('refuses a database written by a newer schema version', () => {
    db.close();
    const raw = new Database(join(dir, DATABASE_FILE));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    let caught: unknown;
    try {
      openDatabase(dir);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StorageError);
    expect((caught as StorageError).code).toBe('STORAGE_SCHEMA_TOO_NEW');
  });

  it('reports an unusable data folder as a StorageError', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    expect(() => openDatabase(join(file, 'sub'))).toThrow(StorageError);
  });
});
