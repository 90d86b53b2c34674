import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import {
  AlertInputError,
  AlertNotFoundError,
  AlertStateError,
  type AlertChange,
} from '../../src/alerts/index.ts';
import { makeEngine, openDb, readingFactory, tempDir, testConfig } from './helpers.ts';

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

function outboxRows() {
  return db.prepare('SELECT dedupe_key, change, status FROM outbox_notifications ORDER BY id').all() as {
    dedupe_key: string;
    change: string;
    status: string;
  }[];
}

describe('alert lifecycle', () => {
  it('opens, escalates, is acknowledged, de-escalates and resolves itself, all audited', () => {
    const { engine, published } = makeEngine(db, testConfig());
    const changes: AlertChange[] = [];
    engine.onChange((c) => changes.push(c));
    const r = readingFactory();

    engine.onStoredReadings([r(70), r(80)]);
    const [alert] = engine.listAlerts({ state: 'active' });
    expect(alert).toMatchObject({ ruleId: 'cikeruh-wl', level: 'Waspada', state: 'open', areaId: 'jatinangor', siteId: 'pos-cikeruh' });
    expect(alert!.evidence).toMatchObject({ value: 80, unit: 'cm', threshold: 60 });
    expect(engine.areaLevels()).toEqual({ jatinangor: 'Waspada', cimanggung: 'Normal' });

    engine.onStoredReadings([r(170), r(180)]);
    expect(engine.getAlert(alert!.id)).toMatchObject({ level: 'Siaga', maxLevel: 'Siaga' });

    const acked = engine.acknowledge(alert!.id, 'operator-ani', 'pos dihubungi');
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'operator-ani', note: 'pos dihubungi' });

    engine.onStoredReadings([r(100), r(100), r(100)]);
    expect(engine.getAlert(alert!.id)).toMatchObject({ level: 'Waspada', maxLevel: 'Siaga', state: 'acknowledged' });

    engine.onStoredReadings([r(20), r(20), r(20)]);
    const done = engine.getAlert(alert!.id)!;
    expect(done).toMatchObject({ state: 'resolved', level: 'Normal', resolvedBy: 'rule:cikeruh-wl' });
    expect(engine.areaLevels()).toEqual({ jatinangor: 'Normal', cimanggung: 'Normal' });

    expect(changes.map((c) => `${c.change}:${c.from}->${c.to}:${c.actor}`)).toEqual([
      'opened:null->Waspada:rule:cikeruh-wl',
      'escalated:Waspada->Siaga:rule:cikeruh-wl',
      'acknowledged:Siaga->Siaga:operator-ani',
      'deescalated:Siaga->Waspada:rule:cikeruh-wl',
      'resolved:Waspada->Normal:rule:cikeruh-wl',
    ]);
    const audit = engine.auditTrail(alert!.id);
    expect(audit.map((e) => [e.change, e.from, e.to, e.actor])).toEqual(
      changes.map((c) => [c.change, c.from, c.to, c.actor]),
    );
    expect(audit[2]!.note).toBe('pos dihubungi');

    // One outbox row per notifiable change (console only); acknowledgements are not sent.
    expect(outboxRows().map((o) => o.change)).toEqual(['opened', 'escalated', 'deescalated', 'resolved']);
    expect(outboxRows()[0]!.dedupe_key).toBe(`${alert!.id}:opened:Waspada:console`);

    // Retained area topic: Waspada, Siaga, Waspada, Normal for jatinangor; nothing for the quiet area.
    expect(published.map((p) => `${p.areaId}:${p.level}`)).toEqual([
      'jatinangor:Waspada',
      'jatinangor:Siaga',
      'jatinangor:Waspada',
      'jatinangor:Normal',
    ]);
    expect(published[0]).toMatchObject({ v: 1, alertId: alert!.id, hazard: 'flood' });
    expect(published[3]).toMatchObject({ alertId: null, hazard: null });
    expect(engine.stats()).toMatchObject({ alertsRaised: 1, maxLevel: 'Siaga', notificationsPending: 4 });
  });

  it('an escalation re-opens an acknowledged alert', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    engine.onStoredReadings([r(70), r(70)]);
    const id = engine.listAlerts()[0]!.id;
    engine.acknowledge(id, 'ani', null);
    engine.onStoredReadings([r(220), r(220)]);
    expect(engine.getAlert(id)).toMatchObject({ state: 'open', level: 'Awas', acknowledgedBy: null });
  });

  it('after an operator resolve above Normal, the next confirmed escalation opens a new alert', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    engine.onStoredReadings([r(170), r(170)]);
    const first = engine.listAlerts()[0]!;
    const resolved = engine.resolve(first.id, 'budi', 'dicek di lapangan');
    expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'budi', level: 'Siaga' });
    expect(engine.areaLevels().jatinangor).toBe('Normal');

    // Still high, and a step down: no new alert.
    engine.onStoredReadings([r(165), r(100), r(100), r(100)]);
    expect(engine.listAlerts({ state: 'active' })).toEqual([]);
    // Detection is at Waspada now; a confirmed Siaga opens a new alert.
    engine.onStoredReadings([r(170), r(170)]);
    const active = engine.listAlerts({ state: 'active' });
    expect(active).toHaveLength(1);
    expect(active[0]!.id).not.toBe(first.id);
    expect(active[0]!.level).toBe('Siaga');
    expect(engine.stats().alertsRaised).toBe(2);
    // The operator resolve was notified (all-clear) like a rule resolve.
    expect(outboxRows().filter((o) => o.change === 'resolved')).toHaveLength(1);
  });

  it('repeated escalations to the same level within one alert each get a notification', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    engine.onStoredReadings([r(220), r(220), r(190), r(190), r(190), r(220), r(220)]);
    const id = engine.listAlerts()[0]!.id;
    expect(outboxRows().map((o) => o.dedupe_key)).toEqual([
      `${id}:opened:Awas:console`,
      `${id}:deescalated:Siaga:console`,
      `${id}:escalated:Awas:console`,
    ]);
    engine.onStoredReadings([r(190), r(190), r(190), r(220), r(220)]);
    expect(outboxRows().slice(3).map((o) => o.dedupe_key)).toEqual([
      `${id}:deescalated:Siaga:console:2`,
      `${id}:escalated:Awas:console:2`,
    ]);
  });

  it('rejects unknown and resolved alerts and bad operator input with coded errors', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    expect(() => engine.acknowledge('nope', 'ani', null)).toThrow(AlertNotFoundError);
    try {
      engine.resolve('nope', 'ani', null);
    } catch (err) {
      expect((err as AlertNotFoundError).code).toBe('ALERT_NOT_FOUND');
    }
    engine.onStoredReadings([r(70), r(70)]);
    const id = engine.listAlerts()[0]!.id;
    expect(() => engine.acknowledge(id, '', null)).toThrow(AlertInputError);
    expect(() => engine.acknowledge(id, 'rule:cikeruh-wl', null)).toThrow(AlertInputError);
    expect(() => engine.acknowledge(id, 'x'.repeat(65), null)).toThrow(AlertInputError);
    expect(() => engine.acknowledge(id, 'ani', 'n'.repeat(1001))).toThrow(AlertInputError);
    expect(() => engine.acknowledge(id, 42 as unknown as string, null)).toThrow(AlertInputError);
    engine.resolve(id, 'ani', null);
    const again = (() => {
      try {
        engine.resolve(id, 'ani', null);
      } catch (err) {
        return err;
      }
    })();
    expect(again).toBeInstanceOf(AlertStateError);
    expect((again as AlertStateError).code).toBe('ALERT_ALREADY_RESOLVED');
    expect(() => engine.acknowledge(id, 'ani', null)).toThrow(AlertStateError);
    // Failed actions left no audit rows behind.
    expect(engine.auditTrail(id).map((e) => e.change)).toEqual(['opened', 'resolved']);
  });

  it('lists by state and area with a bounded limit', () => {
    const config = testConfig({
      rules: [
        { id: 'cikeruh-wl', kind: 'threshold', hazard: 'flood', sensorId: 'wl-01', quantity: 'water_level', levels: { Waspada: { raise: 60, clear: 55 } } },
        { id: 'slope', kind: 'threshold', hazard: 'landslide', sensorId: 'ext-01', quantity: 'displacement', levels: { Waspada: { raise: 50, clear: 45 }, Awas: { raise: 200, clear: 190 } } },
      ],
    });
    const { engine } = makeEngine(db, config);
    const wl = readingFactory();
    const ext = readingFactory('ext-01', 'displacement', 'mm');
    engine.onStoredReadings([wl(70), ext(250), wl(70), ext(250)]);
    expect(engine.areaLevels()).toEqual({ jatinangor: 'Waspada', cimanggung: 'Awas' });
    expect(engine.listAlerts({ areaId: 'cimanggung' }).map((a) => a.hazard)).toEqual(['landslide']);
    expect(engine.listAlerts({ state: 'open' })).toHaveLength(2);
    expect(engine.listAlerts({ state: 'resolved' })).toHaveLength(0);
    expect(engine.listAlerts({ limit: 1 })).toHaveLength(1);
    expect(engine.listAlerts({ limit: -5 })).toHaveLength(2);
    expect(engine.getAlert('missing')).toBeUndefined();
  });

  it('keeps going when a listener or the area publisher throws', () => {
    const { engine } = makeEngine(db, testConfig(), {
      publishAreaLevel: () => {
        throw new Error('broker down');
      },
    });
    engine.onChange(() => {
      throw new Error('listener bug');
    });
    const seen: string[] = [];
    const off = engine.onChange((c) => seen.push(c.change));
    const r = readingFactory();
    engine.onStoredReadings([r(70), r(70)]);
    off();
    engine.onStoredReadings([r(170), r(170)]);
    expect(seen).toEqual(['opened']);
    expect(engine.listAlerts()[0]!.level).toBe('Siaga');
    expect(engine.counters()).toMatchObject({ listenerErrors: 2, publishErrors: 2 });
  });
});
