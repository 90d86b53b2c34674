import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { createBrokerCounters } from '../../src/broker/access.ts';
import { CapLog } from '../../src/cap/cap-log.ts';
import { serverConfigSchema } from '../../src/config/schema.ts';
import { createIngestCounters } from '../../src/ingest/counters.ts';
import { Outbox } from '../../src/notify/outbox.ts';
import { RecipientStore } from '../../src/recipients/store.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { GatewayStateStore } from '../../src/storage/gateway-state-store.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { silentLogger, tempDir } from '../alerts/helpers.ts';
import { RecordingEngine } from '../helpers/recording-engine.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
let app: FastifyInstance;
let outbox: Outbox;

beforeEach(async () => {
  tmp = tempDir();
  db = openDatabase(tmp.dir);
  const config = serverConfigSchema.parse({
    areas: [
      { id: 'kec-cimanggung', name: 'Kec. Cimanggung', kind: 'kecamatan' },
      { id: 'cihanjuang', name: 'Desa Cihanjuang', kind: 'desa', parentId: 'kec-cimanggung' },
    ],
    notify: { channels: [{ kind: 'console', id: 'console' }] },
  });
  outbox = new Outbox(db);
  app = await buildApp({
    config,
    store: new SqliteReadingStore(db),
    gatewayState: new GatewayStateStore(db),
    engine: new RecordingEngine(),
    ingest: { counters: createIngestCounters(), gatewayActivity: () => new Map() },
    broker: { counters: createBrokerCounters(), connectedGateways: () => new Set(), connectedClients: () => 0 },
    dbHealthy: () => true,
    logger: silentLogger,
    now: () => new Date(),
    startedAt: new Date(),
    // An SMS gateway channel as the config will have once helper F's channels land.
    notify: { recipients: new RecipientStore(db), outbox, cap: new CapLog(db), channels: [{ id: 'sms', kind: 'http-gateway' }, { id: 'console', kind: 'console' }] },
  });
});
afterEach(async () => {
  await app.close();
  db.close();
  tmp.cleanup();
});

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

describe('subscription API', () => {
  it('subscribe, get the code on the channel, confirm, read (masked), leave', async () => {
    const res = await post('/api/v1/subscriptions', { channelId: 'sms', address: '0812-3456-7789', areaIds: ['cihanjuang'], language: 'su' });
    expect(res.statusCode).toBe(202);
    const sub = res.json().subscription;
    expect(sub).toMatchObject({ status: 'pending', address: '+62812****789', language: 'su', channelId: 'sms' });
    expect(res.body).not.toContain('3456');
    const row = outbox.forAlert(`subscription:${sub.id}`)[0]!;
    expect(row).toMatchObject({ channelId: 'sms', change: 'confirm', recipientId: sub.id, status: 'pending' });
    const code = /(\d{6})/.exec(row.text!)![1]!;
    expect(row.text).toContain('BERHENTI');

    expect((await post(`/api/v1/subscriptions/${sub.id}/confirm`, { code: code === '000000' ? '000001' : '000000' })).json().error.code).toBe('WRONG_CODE');
    const ok = await post(`/api/v1/subscriptions/${sub.id}/confirm`, { code });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().subscription).toMatchObject({ status: 'active', areaIds: ['cihanjuang'], address: '+62812****789' });
    expect((await app.inject(`/api/v1/subscriptions/${sub.id}`)).json().subscription.status).toBe('active');
    const list = await app.inject('/api/v1/recipients?kind=resident');
    expect(list.json().counts).toEqual({ residentsActive: 1, residentsPending: 0, staff: 0 });
    expect(list.body).not.toContain('3456');

    expect((await app.inject({ method: 'DELETE', url: `/api/v1/subscriptions/${sub.id}` })).json()).toEqual({ deleted: true });
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/subscriptions/${sub.id}` })).statusCode).toBe(404);
    expect((await app.inject(`/api/v1/subscriptions/${sub.id}`)).statusCode).toBe(404);
  });

  it('rejects bad input with clear errors', async () => {
    const cases: [unknown, number, string][] = [
      [{ channelId: 'sms', address: '+1 415 555 0100', areaIds: ['cihanjuang'] }, 400, 'INVALID_PHONE'],
      [{ channelId: 'sms', address: '081234567890', areaIds: ['atlantis'] }, 400, 'UNKNOWN_AREA'],
      [{ channelId: 'pigeon', address: '081234567890', areaIds: ['cihanjuang'] }, 400, 'UNKNOWN_CHANNEL'],
      [{ channelId: 'console', address: '081234567890', areaIds: ['cihanjuang'] }, 400, 'NOT_A_PEOPLE_CHANNEL'],
      [{ channelId: 'sms', address: '081234567890', areaIds: [] }, 400, 'VALIDATION'],
      [{ channelId: 'sms', address: '081234567890', areaIds: ['cihanjuang'], name: 'Budi' }, 400, 'VALIDATION'],
      [{ channelId: 'sms', address: '081234567890', areaIds: ['cihanjuang'], language: 'fr' }, 400, 'VALIDATION'],
      ['not json', 415, ''],
    ];
    for (const [body, status, code] of cases) {
      const res = await post('/api/v1/subscriptions', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      if (code && code !== 'VALIDATION') expect(res.json().error.code).toBe(code);
    }
    expect((await post('/api/v1/subscriptions/r-zz/confirm', { code: '123456' })).statusCode).toBe(400);
    expect((await post('/api/v1/subscriptions/r-0123456789abcdef/confirm', { code: '123456' })).statusCode).toBe(404);
    expect((await post('/api/v1/subscriptions/r-0123456789abcdef/confirm', { code: '12' })).statusCode).toBe(400);
    // Four code requests within the hour for one number: the fourth is refused.
    for (let i = 0; i < 3; i++) expect((await post('/api/v1/subscriptions', { channelId: 'sms', address: '081299999999', areaIds: ['cihanjuang'] })).statusCode).toBe(202);
    const spam = await post('/api/v1/subscriptions', { channelId: 'sms', address: '081299999999', areaIds: ['cihanjuang'] });
    expect(spam.statusCode).toBe(429);
    expect(spam.json().error.code).toBe('TOO_MANY_REQUESTS');
  });
});
