/**
 * Issue 4 lifecycle: reminders for unacknowledged Siaga/Awas alerts, late-data labelling,
 * late data never re-firing a resolved alert, audiences, silences (what they suppress).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { AlertChange } from '../../src/alerts/index.ts';
import { makeEngine, openDb, readingFactory, tempDir, testConfig, WL_RULE } from './helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
beforeEach(() => {
  tmp = tempDir();
  db = openDb(tmp.dbPath);
});
afterEach(() => {
  db.close();
  tmp.cleanup();
});

const outbox = () => db.prepare("SELECT change, json_extract(payload, '$.to') AS level FROM outbox_notifications ORDER BY id").all() as { change: string; level: string }[];
const MIN = 60_000;

describe('unacknowledged Siaga/Awas alerts', () => {
  it('emit one reminder per level reached after the configured delay, never for Waspada or acknowledged alerts', () => {
    const config = testConfig({ alerts: { escalateUnacknowledgedAfterMs: 15 * MIN } });
    const { engine, clock } = makeEngine(db, config);
    const changes: AlertChange[] = [];
    engine.onChange((c) => changes.push(c));
    const r = readingFactory();
    engine.onStoredReadings([r(70), r(70)]);
    clock.advance(30 * MIN);
    engine.tick();
    expect(changes.map((c) => c.change)).toEqual(['opened']); // Waspada: no reminder
    engine.onStoredReadings([r(170), r(170)]);
    clock.advance(14 * MIN);
    engine.tick();
    expect(changes.at(-1)!.change).toBe('escalated');
    clock.advance(1 * MIN);
    engine.tick();
    engine.tick();
    expect(changes.map((c) => `${c.change}:${c.to}`)).toEqual(['opened:Waspada', 'escalated:Siaga', 'unacknowledged:Siaga']);
    expect(changes.at(-1)!.audience).toBe('public');
    engine.onStoredReadings([r(220), r(220)]);
    clock.advance(15 * MIN);
    engine.tick();
    expect(changes.slice(-2).map((c) => `${c.change}:${c.to}`)).toEqual(['escalated:Awas', 'unacknowledged:Awas']);
    const id = changes[0]!.alert.id;
    expect(engine.auditTrail(id).filter((e) => e.change === 'unacknowledged')).toHaveLength(2);
    expect(outbox().filter((o) => o.change === 'unacknowledged').map((o) => o.level)).toEqual(['Siaga', 'Awas']);
    // The alert row itself is unchanged by a reminder.
    expect(engine.getAlert(id)).toMatchObject({ level: 'Awas', state: 'open' });
    expect(engine.counters().remindersEmitted).toBe(2);
  });

  it('sends nothing once acknowledged, and a restart neither repeats nor forgets a reminder', () => {
    const config = testConfig({ alerts: { escalateUnacknowledgedAfterMs: 10 * MIN } });
    const first = makeEngine(db, config);
    const r = readingFactory();
    first.engine.onStoredReadings([r(170), r(170)]);
    first.clock.advance(10 * MIN);
    first.engine.tick();
    expect(first.engine.counters().remindersEmitted).toBe(1);
    const second = makeEngine(db, config);
    second.clock.advance(60 * MIN);
    second.engine.tick();
    expect(second.engine.counters().remindersEmitted).toBe(0);
    const alert = second.engine.listAlerts({ state: 'active' })[0]!;
    second.engine.acknowledge(alert.id, 'operator-ani', 'tim ke lokasi');
    second.engine.onStoredReadings([r(220), r(220)]); // Awas re-opens it: a fresh look is needed
    second.clock.advance(5 * MIN);
    second.engine.tick();
    second.engine.acknowledge(alert.id, 'operator-ani', null);
    second.clock.advance(60 * MIN);
    second.engine.tick();
    expect(second.engine.counters().remindersEmitted).toBe(0);
    expect(outbox().filter((o) => o.change === 'unacknowledged')).toHaveLength(1);
  });
});

describe('late data', () => {
  it('labels a change decided by delayed data with the delay, in both languages', () => {
    const { engine } = makeEngine(db, testConfig());
    const changes: AlertChange[] = [];
    engine.onChange((c) => changes.push(c));
    const r = readingFactory();
    const delayed = (v: number) => {
      const x = r(v);
      return { ...x, receivedAt: new Date(Date.parse(x.ts) + 40 * MIN).toISOString() };
    };
    engine.onStoredReadings([delayed(70), delayed(70)]);
    const c = changes[0]!;
    expect(c.lateByMs).toBe(40 * MIN);
    expect(c.lateNotice).toEqual({ id: 'terdeteksi terlambat, data tertunda 40 menit', en: 'detected late, data delayed 40 minutes' });
    expect(engine.getAlert(c.alert.id)!.lateByMs).toBe(40 * MIN);
    expect(engine.auditTrail(c.alert.id)[0]!.note).toContain('data tertunda 40 menit');
    // Fresh data: no label.
    engine.onStoredReadings([r(170), r(170)]);
    expect(changes[1]).toMatchObject({ change: 'escalated', lateByMs: null, lateNotice: null });
  });

  it('does not re-open an alert an operator resolved when older data arrives late', () => {
    const { engine, clock } = makeEngine(db, testConfig());
    const r = readingFactory();
    engine.onStoredReadings([r(170), r(170)]);
    const alert = engine.listAlerts()[0]!;
    clock.advance(3 * 60 * MIN); // the operator resolves at 10:00 UTC, readings are stamped 07:0x
    engine.resolve(alert.id, 'operator-ani', 'dicek di lapangan');
    engine.onStoredReadings([r(230), r(230)]);
    expect(engine.listAlerts()).toHaveLength(1);
    expect(engine.counters().lateSuppressed).toBe(1);
  });
});

describe('audience', () => {
  it('sensor-health alerts go to technicians: recorded, never in the area level, changes carry the audience', async () => {
    const health = { id: 'wl-range', kind: 'out-of-range' as const, sensorId: 'wl-01', quantity: 'water_level' as const, min: 0, max: 1500, confirmReadings: 2 };
    const { engine, published } = makeEngine(db, testConfig({ rules: [health] }));
    const changes: AlertChange[] = [];
    engine.onChange((c) => changes.push(c));
    const r = readingFactory();
    engine.start();
    engine.onStoredReadings([r(9000), r(9000)]);
    expect(changes.map((c) => [c.alert.ruleId, c.change, c.audience])).toEqual([['wl-range', 'opened', 'technician']]);
    expect(engine.getAlert(changes[0]!.alert.id)!.audience).toBe('technician');
    expect(engine.areaLevels().jatinangor).toBe('Normal');
    expect(published.filter((p) => p.level !== 'Normal')).toEqual([]);
    await engine.stop();
  });
});

describe('silences', () => {
  it('record and audit alerts under a silence, queue nothing, keep the area level Normal; ending it restores the level', async () => {
    const { engine, published, clock } = makeEngine(db, testConfig());
    engine.start();
    const s = engine.createSilence({ scope: 'sensor', targetId: 'wl-01', expiresAt: new Date(clock.ms() + 60 * MIN).toISOString(), reason: 'kalibrasi', by: 'teknisi-budi' });
    const r = readingFactory();
    engine.onStoredReadings([r(230), r(230)]);
    const alert = engine.listAlerts({ state: 'active' })[0]!;
    expect(alert.level).toBe('Awas');
    expect(engine.auditTrail(alert.id)[0]!.note).toContain(s.id);
    expect(outbox()).toEqual([]);
    expect(engine.areaLevels().jatinangor).toBe('Normal');
    expect(engine.counters().silencedChanges).toBe(1);
    expect(engine.listSilences().map((x) => x.id)).toEqual([s.id]);
    engine.endSilence(s.id, 'teknisi-budi');
    expect(engine.areaLevels().jatinangor).toBe('Awas');
    expect(published.at(-1)).toMatchObject({ areaId: 'jatinangor', level: 'Awas' });
    expect(engine.listSilences()).toEqual([]);
    expect(engine.listSilences({ all: true })[0]).toMatchObject({ endedBy: 'teknisi-budi' });
    await engine.stop();
  });

  it('a site silence expires on its own: the next tick publishes the level again', async () => {
    const { engine, published, clock } = makeEngine(db, testConfig());
    engine.start();
    engine.createSilence({ scope: 'site', targetId: 'pos-cikeruh', expiresAt: new Date(clock.ms() + 30 * MIN).toISOString(), reason: null, by: 'teknisi-budi' });
    const r = readingFactory();
    engine.onStoredReadings([r(170), r(170)]);
    expect(engine.areaLevels().jatinangor).toBe('Normal');
    clock.advance(31 * MIN);
    engine.tick();
    expect(published.at(-1)).toMatchObject({ areaId: 'jatinangor', level: 'Siaga' });
    await engine.stop();
  });

  it('rejects hostile silence input with clear errors', () => {
    const { engine, clock } = makeEngine(db, testConfig());
    const at = (ms: number) => new Date(clock.ms() + ms).toISOString();
    const bad: unknown[] = [
      { scope: 'area', targetId: 'wl-01', expiresAt: at(MIN), reason: null, by: 'x' },
      { scope: 'sensor', targetId: '../etc', expiresAt: at(MIN), reason: null, by: 'x' },
      { scope: 'sensor', targetId: 'wl-01', expiresAt: 'tomorrow', reason: null, by: 'x' },
      { scope: 'sensor', targetId: 'wl-01', expiresAt: at(-MIN), reason: null, by: 'x' },
      { scope: 'sensor', targetId: 'wl-01', expiresAt: at(31 * 86_400_000), reason: null, by: 'x' },
      { scope: 'sensor', targetId: 'wl-01', expiresAt: at(MIN), reason: null, by: 'rule:x' },
      { scope: 'sensor', targetId: 'wl-01', expiresAt: at(MIN), reason: 'x'.repeat(1001), by: 'x' },
      { scope: 'sensor', targetId: { toString: () => 'wl-01' }, expiresAt: at(MIN), reason: null, by: 'x' },
    ];
    for (const b of bad) expect(() => engine.createSilence(b as never)).toThrow(expect.objectContaining({ code: 'ALERT_INVALID_INPUT' }));
    expect(() => engine.endSilence('nope', 'x')).toThrow(expect.objectContaining({ code: 'SILENCE_NOT_FOUND' }));
    expect(engine.listSilences({ all: true })).toEqual([]);
  });
});
