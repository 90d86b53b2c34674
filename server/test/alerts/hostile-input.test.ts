import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { AlertConfigError, createAlertEngine, validateAlertConfig, type StoredReading } from '../../src/alerts/index.ts';
import { makeEngine, openDb, readingFactory, silentLogger, tempDir, testConfig, WL_RULE } from './helpers.ts';

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

describe('hostile readings', () => {
  it('counts garbage, keeps the good readings around it', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    const garbage = [
      null,
      'reading',
      42,
      {},
      { sensorId: 'wl-01', quantity: 'water_level', value: 'high', ts: '2026-11-28T07:10:00.000Z', quality: 'good' },
      { ...r(500), ts: 'not a time' },
      { ...r(500), value: Number.POSITIVE_INFINITY },
      { ...r(500), sensorId: { toString: () => 'wl-01' } },
      { ...r(500), quantity: 'constructor' },
    ] as unknown as StoredReading[];
    const good = [r(70), r(70)];
    expect(() => engine.onStoredReadings([good[0]!, ...garbage, good[1]!])).not.toThrow();
    expect(engine.listAlerts()[0]).toMatchObject({ level: 'Waspada' });
    const c = engine.counters();
    expect(c.invalidIgnored).toBeGreaterThanOrEqual(5);
    expect(c.readingsEvaluated).toBe(2);
  });

  it('ignores a non-array and an empty batch', () => {
    const { engine } = makeEngine(db, testConfig());
    expect(() => engine.onStoredReadings(null as unknown as StoredReading[])).not.toThrow();
    expect(() => engine.onStoredReadings([])).not.toThrow();
    expect(engine.listAlerts()).toEqual([]);
  });

  it('counts suspect readings and never alerts on them', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    engine.onStoredReadings([r(9999, { quality: 'suspect' }), r(9999, { quality: 'suspect' }), r(9999, { quality: 'suspect' })]);
    expect(engine.listAlerts()).toEqual([]);
    expect(engine.counters().suspectIgnored).toBe(3);
  });

  it('evaluates a shuffled batch in event-time order', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    const inOrder = [r(70), r(70), r(10), r(10), r(10)];
    // Reversed, it would de-escalate nothing and end at Waspada; in ts order it opens and resolves.
    engine.onStoredReadings([...inOrder].reverse());
    expect(engine.listAlerts()[0]).toMatchObject({ state: 'resolved', resolvedBy: 'rule:cikeruh-wl' });
  });

  it('survives a database failure inside a batch and reloads its view', () => {
    const { engine } = makeEngine(db, testConfig());
    const r = readingFactory();
    engine.onStoredReadings([r(70)]);
    // A trigger that makes every alert insert fail, as a full disk or a corrupt page would.
    db.exec(`CREATE TRIGGER boom BEFORE INSERT ON alert_alerts BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    expect(() => engine.onStoredReadings([r(70)])).not.toThrow();
    expect(engine.counters().detectionErrors).toBe(1);
    expect(engine.listAlerts()).toEqual([]);
    expect(engine.areaLevels().jatinangor).toBe('Normal');
    db.exec('DROP TRIGGER boom');
    // The rolled-back batch left the persisted run at one; the next reading confirms.
    engine.onStoredReadings([r(70)]);
    expect(engine.listAlerts()[0]).toMatchObject({ level: 'Waspada' });
  });
});

describe('config cross-references', () => {
  it('reports unknown sensors, sites, areas, duplicate ids and non-increasing raises', () => {
    const config = testConfig({
      sites: [{ id: 'pos-cikeruh', name: 'Pos', areaId: 'nowhere', lat: 0, lon: 0 }],
      sensors: [{ id: 'wl-01', siteId: 'pos-cikeruh', type: 'wl' }, { id: 'ext-01', siteId: 'gone', type: 'x' }],
      rules: [
        WL_RULE,
        { ...WL_RULE, sensorId: 'ghost' },
        { ...WL_RULE, id: 'flat', levels: { Waspada: { raise: 50, clear: 40 }, Siaga: { raise: 50, clear: 45 } } },
      ],
      notify: { channels: [{ kind: 'console', id: 'c' }, { kind: 'console', id: 'c' }] },
    });
    const problems = validateAlertConfig(config);
    expect(problems).toEqual([
      'sites.0.areaId: unknown area "nowhere"',
      'sensors.1.siteId: unknown site "gone"',
      'rules.1.sensorId: unknown sensor "ghost"',
      'rules.1.id: duplicate rule id "cikeruh-wl"',
      'rules.2.levels.Siaga.raise: must be > levels.Waspada.raise',
      'notify.channels.1.id: duplicate channel id "c"',
    ]);
    let thrown: unknown;
    try {
      createAlertEngine({ db, config, logger: silentLogger, publishAreaLevel: () => {} });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AlertConfigError);
    expect((thrown as AlertConfigError).code).toBe('ALERT_CONFIG_INVALID');
    expect((thrown as AlertConfigError).problems).toEqual(problems);
    expect(validateAlertConfig(testConfig())).toEqual([]);
  });
});
