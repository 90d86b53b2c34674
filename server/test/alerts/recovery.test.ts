/**
 * The kill -9 window (issue 4, item 5): readings committed by ingest but never seen by the engine
 * (the process died between the two commits) are evaluated at the next start, from the
 * watermark the engine keeps with its state; a second restart re-fires nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readingSchema, type Reading } from '@kentongan/firmware-protocol';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../src/storage/database.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { makeEngine, tempDir, testConfig } from './helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
beforeEach(() => {
  tmp = tempDir();
  db = openDatabase(tmp.dir);
});
afterEach(() => {
  if (db.open) db.close();
  tmp.cleanup();
});

const T0 = Date.parse('2026-11-28T07:00:00.000Z');
let seq = 0;
function wl(value: number, minute: number): Reading {
  return readingSchema.parse({ sensorId: 'wl-01', epoch: 1, seq: ++seq, quantity: 'water_level', value, unit: 'cm', ts: new Date(T0 + minute * 60_000).toISOString(), quality: 'good' });
}
const outboxCount = () => (db.prepare('SELECT COUNT(*) AS n FROM outbox_notifications').get() as { n: number }).n;

describe('restart recovery from the evaluated-reading watermark', () => {
  it('evaluates readings stored after the last evaluation, once', () => {
    const store = new SqliteReadingStore(db);
    const first = makeEngine(db, testConfig());
    const stored = store.insertBatch('gw-1', [wl(50, 1), wl(52, 2)], new Date(T0 + 3 * 60_000)).stored;
    first.engine.onStoredReadings(stored);
    // Stored and acked, then the process dies before detection: the engine never hears of these.
    store.insertBatch('gw-1', [wl(215, 3), wl(220, 4), wl(225, 5)], new Date(T0 + 6 * 60_000));
    db.close();

    db = openDatabase(tmp.dir);
    const second = makeEngine(db, testConfig());
    const alert = second.engine.listAlerts({ state: 'active' })[0];
    expect(alert).toMatchObject({ level: 'Awas', state: 'open' });
    expect(second.engine.counters().recoveredReadings).toBe(3);
    expect(outboxCount()).toBe(1);
    db.close();

    db = openDatabase(tmp.dir);
    const third = makeEngine(db, testConfig());
    expect(third.engine.counters().recoveredReadings).toBe(0);
    expect(third.engine.listAlerts()).toHaveLength(1);
    expect(outboxCount()).toBe(1);
  });

  it('on the first start over an existing history evaluates nothing old', () => {
    const store = new SqliteReadingStore(db);
    store.insertBatch('gw-1', [wl(230, 1), wl(230, 2)], new Date(T0 + 3 * 60_000));
    const { engine } = makeEngine(db, testConfig());
    expect(engine.listAlerts()).toEqual([]);
    expect(engine.counters().recoveredReadings).toBe(0);
  });

  it('after a failed detection transaction the next batch re-reads what was missed', () => {
    const store = new SqliteReadingStore(db);
    const { engine } = makeEngine(db, testConfig());
    const a = store.insertBatch('gw-1', [wl(215, 1), wl(220, 2)], new Date(T0 + 3 * 60_000)).stored;
    // A trigger makes the engine's transaction fail once (a full disk, a lock): detection rolls back.
    db.exec(`CREATE TRIGGER fail_once BEFORE INSERT ON alert_alerts BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);
    engine.onStoredReadings(a);
    expect(engine.counters().detectionErrors).toBe(1);
    expect(engine.listAlerts()).toEqual([]);
    db.exec('DROP TRIGGER fail_once');
    const b = store.insertBatch('gw-1', [wl(100, 3)], new Date(T0 + 4 * 60_000)).stored;
    engine.onStoredReadings(b);
    expect(engine.listAlerts({ state: 'active' })[0]).toMatchObject({ level: 'Awas' });
    expect(outboxCount()).toBe(1);
  });
});
