/**
 * HTTP API of issue 4 over real parts (SQLite, the real engine, `app.inject`): silences and
 * backtest, including hostile bodies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { readingSchema } from '@kentongan/firmware-protocol';
import { buildApp } from '../../src/app.ts';
import { createAlertEngine, type KentonganAlertEngine } from '../../src/alerts/index.ts';
import { runBacktest } from '../../src/backtest/backtest.ts';
import { createBrokerCounters } from '../../src/broker/access.ts';
import { createIngestCounters } from '../../src/ingest/counters.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { GatewayStateStore } from '../../src/storage/gateway-state-store.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { testConfig, WL_RULE } from '../alerts/helpers.ts';

const NOW = new Date('2026-01-12T00:00:00.000Z');
let dir: string;
let db: Database.Database;
let app: FastifyInstance;
let engine: KentonganAlertEngine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kentongan-api4-'));
  db = openDatabase(dir);
  const config = testConfig({ dataDir: dir });
  const store = new SqliteReadingStore(db);
  const readings = Array.from({ length: 30 }, (_, i) =>
    readingSchema.parse({ sensorId: 'wl-01', epoch: 1, seq: i, quantity: 'water_level', value: i < 10 ? 50 : i < 20 ? 230 : 40, unit: 'cm', ts: new Date(NOW.getTime() - 86_400_000 + i * 600_000).toISOString(), quality: 'good' }),
  );
  store.insertBatch('gw-1', readings, NOW);
  engine = createAlertEngine({ db, config, logger: pino({ level: 'silent' }), now: () => NOW, publishAreaLevel: () => {}, consoleWriter: () => {} });
  app = await buildApp({
    config,
    store,
    gatewayState: new GatewayStateStore(db),
    engine,
    ingest: { counters: createIngestCounters(), gatewayActivity: () => new Map() },
    broker: { counters: createBrokerCounters(), connectedGateways: () => new Set(), connectedClients: () => 0 },
    dbHealthy: () => true,
    logger: pino({ level: 'silent' }),
    now: () => NOW,
    startedAt: NOW,
    backtest: { run: (opts) => runBacktest(db, opts) },
  });
});
afterAll(async () => {
  await app.close();
  await engine.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
const code = (res: { json(): unknown }) => (res.json() as { error: { code: string } }).error.code;

describe('silences API', () => {
  it('creates, lists and ends a silence, audited with who and when', async () => {
    const created = await post('/api/v1/silences', { scope: 'sensor', targetId: 'wl-01', durationMinutes: 90, reason: 'ganti baterai', by: 'teknisi-budi' });
    expect(created.statusCode).toBe(201);
    const s = (created.json() as { silence: { id: string; expiresAt: string; expiresAtLocal: string } }).silence;
    expect(s.expiresAt).toBe('2026-01-12T01:30:00.000Z');
    expect(s.expiresAtLocal).toBe('2026-01-12T08:30:00.000+07:00');
    const list = (await app.inject('/api/v1/silences')).json() as { silences: { id: string }[] };
    expect(list.silences.map((x) => x.id)).toEqual([s.id]);
    const ended = await app.inject({ method: 'DELETE', url: `/api/v1/silences/${s.id}`, payload: { by: 'teknisi-budi' } });
    expect(ended.json()).toMatchObject({ silence: { endedBy: 'teknisi-budi', endedAt: NOW.toISOString() } });
    expect(((await app.inject('/api/v1/silences')).json() as { silences: unknown[] }).silences).toEqual([]);
    expect(((await app.inject('/api/v1/silences?all=true')).json() as { silences: unknown[] }).silences).toHaveLength(1);
  });

  it('refuses hostile bodies with 400/404 and stores nothing', async () => {
    const bodies: [unknown, number][] = [
      [{}, 400],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'x' }, 400],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'x', durationMinutes: 5, expiresAt: '2026-01-12T02:00:00Z' }, 400],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'x', durationMinutes: 0 }, 400],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'x', durationMinutes: 1e9 }, 400],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'x', expiresAt: '2025-01-01T00:00:00Z' }, 400],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'rule:wl', durationMinutes: 5 }, 400],
      [{ scope: 'area', targetId: 'wl-01', by: 'x', durationMinutes: 5 }, 400],
      [{ scope: 'sensor', targetId: 'nope', by: 'x', durationMinutes: 5 }, 404],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'x', durationMinutes: 5, extra: 1 }, 400],
      [{ scope: 'sensor', targetId: 'wl-01', by: 'x'.repeat(65), durationMinutes: 5 }, 400],
      [['sensor'], 400],
    ];
    const before = engine.listSilences({ all: true }).length;
    for (const [b, status] of bodies) expect((await post('/api/v1/silences', b)).statusCode, JSON.stringify(b)).toBe(status);
    const bad = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: { 'content-type': 'application/json' }, payload: '{"__proto__":{"x":1}}' });
    expect(bad.statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/silences/unknown', payload: { by: 'x' } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/silences/unknown', payload: {} })).statusCode).toBe(400);
    expect(engine.listSilences({ all: true })).toHaveLength(before);
  });
});

describe('backtest API', () => {
  it('runs the configured rules or given ones over stored history', async () => {
    const res = await post('/api/v1/backtest', { from: '2026-01-11', to: '2026-01-12' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { summary: { alerts: number; maxLevel: string }; readings: number; alerts: { openedAtLocal: string }[] };
    expect(body.readings).toBe(30);
    expect(body.summary).toMatchObject({ alerts: 1, maxLevel: 'Awas' });
    const strict = await post('/api/v1/backtest', { from: '2026-01-11T00:00:00+07:00', to: '2026-01-12T07:00:00+07:00', rules: [{ ...WL_RULE, levels: { Awas: { raise: 500, clear: 400 } } }] });
    expect((strict.json() as { summary: { alerts: number } }).summary.alerts).toBe(0);
  });

  it('refuses hostile bodies with 400', async () => {
    const bodies: unknown[] = [
      {},
      { from: '2026-01-11' },
      { from: 'x', to: 'y' },
      { from: '2026-01-12', to: '2026-01-11' },
      { from: '2020-01-01', to: '2026-01-12' },
      { from: '2026-01-11', to: '2026-01-12', rules: [] },
      { from: '2026-01-11', to: '2026-01-12', rules: [{ kind: 'threshold' }] },
      { from: '2026-01-11', to: '2026-01-12', rules: [WL_RULE, WL_RULE] },
      { from: '2026-01-11', to: '2026-01-12', rules: 'all' },
      { from: '2026-01-11', to: '2026-01-12', rules: Array.from({ length: 501 }, () => WL_RULE) },
      { from: '2026-01-11'.repeat(10), to: '2026-01-12' },
      { from: '2026-01-11', to: '2026-01-12', maxAlerts: -1 },
    ];
    for (const b of bodies) {
      const res = await post('/api/v1/backtest', b);
      // 413: the body limit (64 KiB) stops a huge rule list before validation.
      expect([400, 413], JSON.stringify(b).slice(0, 80)).toContain(res.statusCode);
      expect(code(res)).toMatch(/VALIDATION_FAILED|BACKTEST_INVALID|BODY_TOO_LARGE|FST_ERR_CTP_BODY_TOO_LARGE|PAYLOAD_TOO_LARGE/);
    }
  });
});
