import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { makeEngine, openDb, readingFactory, tempDir, testConfig } from './helpers.ts';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.cleanup();
});

function outboxCount(db: Database.Database): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM outbox_notifications').get() as { n: number }).n;
}

describe('restart on the same database', () => {
  it('keeps the open alert and detection state, re-fires nothing and continues', async () => {
    const r = readingFactory();
    let db = openDb(tmp.dbPath);
    const first = makeEngine(db, testConfig());
    first.engine.start();
    first.engine.onStoredReadings([r(220), r(230)]);
    const alert = first.engine.listAlerts({ state: 'active' })[0]!;
    expect(alert.level).toBe('Awas');
    // Two below Awas.clear: one short of a step down when the server stops.
    first.engine.onStoredReadings([r(150), r(150)]);
    await first.engine.stop();
    const rowsBefore = outboxCount(db);
    db.close();

    db = openDb(tmp.dbPath);
    const second = makeEngine(db, testConfig());
    const changes: string[] = [];
    second.engine.onChange((c) => changes.push(`${c.change}:${c.to}`));
    expect(second.engine.getAlert(alert.id)).toMatchObject({ state: 'open', level: 'Awas' });
    expect(second.engine.areaLevels().jatinangor).toBe('Awas');
    expect(outboxCount(db)).toBe(rowsBefore);
    expect(second.published).toEqual([]);

    // start() re-publishes every area once (retained topics may be gone after a broker restart).
    second.engine.start();
    expect(second.published.map((p) => `${p.areaId}:${p.level}:${p.alertId}`).sort()).toEqual([
      'cimanggung:Normal:null',
      `jatinangor:Awas:${alert.id}`,
    ]);
    // The persisted clear run continues: one more low reading is the third -> Siaga.
    second.engine.onStoredReadings([r(150)]);
    expect(changes).toEqual(['deescalated:Siaga']);
    expect(second.engine.listAlerts()).toHaveLength(1);
    // A reading older than the last one evaluated before the restart is ignored as late.
    second.engine.onStoredReadings([r(10, { ts: '2026-11-28T07:00:30.000Z' })]);
    expect(second.engine.counters().lateIgnored).toBe(1);
    await second.engine.stop();
    db.close();
  });

  it('replaying the same batch after a restart does not notify twice', () => {
    const r = readingFactory();
    const batch = [r(70), r(70)];
    let db = openDb(tmp.dbPath);
    makeEngine(db, testConfig()).engine.onStoredReadings(batch);
    db.close();
    db = openDb(tmp.dbPath);
    const { engine } = makeEngine(db, testConfig());
    engine.onStoredReadings(batch);
    expect(engine.listAlerts()).toHaveLength(1);
    expect(outboxCount(db)).toBe(1);
    expect(engine.counters().lateIgnored).toBe(2);
    db.close();
  });

  it('keeps the open alert when the persisted detector snapshot is corrupt, and counts nothing twice', () => {
    const r = readingFactory();
    let db = openDb(tmp.dbPath);
    makeEngine(db, testConfig()).engine.onStoredReadings([r(170), r(170)]);
    db.prepare(`UPDATE alert_engine_meta SET value = '{"v":1,"garbage":' WHERE key = 'detector_snapshot'`).run();
    db.close();
    db = openDb(tmp.dbPath);
    const { engine } = makeEngine(db, testConfig());
    // Detection restarted from Normal: the open Siaga alert stays (nothing forgotten) and a
    // Waspada-level confirmation does not re-fire or lower it.
    expect(engine.listAlerts({ state: 'active' })[0]).toMatchObject({ level: 'Siaga', state: 'open' });
    engine.onStoredReadings([r(70), r(70)]);
    expect(engine.listAlerts()).toHaveLength(1);
    expect(engine.listAlerts()[0]).toMatchObject({ level: 'Siaga', state: 'open' });
    expect(outboxCount(db)).toBe(1);
    // A confirmed higher level still escalates it.
    engine.onStoredReadings([r(230), r(230)]);
    expect(engine.listAlerts()[0]).toMatchObject({ level: 'Awas' });
    db.close();
  });
});
