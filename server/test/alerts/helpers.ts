/** Shared test fixtures for the alert engine: temp SQLite files, a config, a clock, readings. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { AreaAlert } from '@kentongan/firmware-protocol';
import { serverConfigSchema, type ServerConfig, type ServerConfigInput } from '../../src/config/schema.ts';
import { createAlertEngine, type AlertEngineDeps, type StoredReading } from '../../src/alerts/index.ts';

export const silentLogger = pino({ level: 'silent' });

/** A temp folder with a database path; `cleanup` removes it. */
export function tempDir(): { dir: string; dbPath: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kentongan-alerts-'));
  return { dir, dbPath: join(dir, 'state.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function openDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  return db;
}

/** A manual clock starting at 2026-11-28T07:00:00Z (14:00 WIB). */
export function manualClock(start = Date.parse('2026-11-28T07:00:00.000Z')) {
  let ms = start;
  return {
    now: () => new Date(ms),
    advance: (d: number) => {
      ms += d;
    },
    ms: () => ms,
  };
}

export const WL_RULE = {
  id: 'cikeruh-wl',
  kind: 'threshold' as const,
  hazard: 'flood' as const,
  sensorId: 'wl-01',
  quantity: 'water_level' as const,
  levels: {
    Waspada: { raise: 60, clear: 55 },
    Siaga: { raise: 160, clear: 150 },
    Awas: { raise: 210, clear: 200 },
  },
  confirmReadings: 2,
  clearReadings: 3,
};

export function testConfig(over: Partial<ServerConfigInput> = {}): ServerConfig {
  return serverConfigSchema.parse({
    areas: [
      { id: 'jatinangor', name: 'Kec. Jatinangor' },
      { id: 'cimanggung', name: 'Kec. Cimanggung' },
    ],
    sites: [
      { id: 'pos-cikeruh', name: 'Pos Cikeruh', areaId: 'jatinangor', lat: -6.93, lon: 107.77 },
      { id: 'lereng-1', name: 'Lereng Bojongkondang', areaId: 'cimanggung', lat: -6.95, lon: 107.82 },
    ],
    sensors: [
      { id: 'wl-01', siteId: 'pos-cikeruh', type: 'water_level' },
      { id: 'ext-01', siteId: 'lereng-1', type: 'extensometer' },
    ],
    rules: [WL_RULE],
    notify: { channels: [{ kind: 'console', id: 'console' }] },
    ...over,
  });
}

/** Readings of one sensor, one minute apart from `startMs`, with growing seq. */
export function readingFactory(sensorId = 'wl-01', quantity: StoredReading['quantity'] = 'water_level', unit = 'cm') {
  let seq = 0;
  let ms = Date.parse('2026-11-28T07:00:00.000Z');
  return (value: number, opts: { quality?: 'good' | 'suspect'; ts?: string } = {}): StoredReading => {
    seq++;
    ms += 60_000;
    const ts = opts.ts ?? new Date(ms).toISOString();
    return {
      gatewayId: 'gw-1',
      sensorId,
      epoch: 1,
      seq,
      quantity,
      value,
      unit,
      ts,
      quality: opts.quality ?? 'good',
      receivedAt: ts,
    };
  };
}

/** An engine on `db` with recorded console lines and area publishes. */
export function makeEngine(db: Database.Database, config: ServerConfig, extra: Partial<AlertEngineDeps> = {}) {
  const lines: string[] = [];
  const published: AreaAlert[] = [];
  const clock = manualClock();
  const engine = createAlertEngine({
    db,
    config,
    logger: silentLogger,
    now: clock.now,
    publishAreaLevel: (m) => published.push(m),
    consoleWriter: (t) => lines.push(t),
    ...extra,
  });
  return { engine, lines, published, clock };
}

/** Resolves once `cond` holds, polling every 5 ms (fails after `ms`). */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
