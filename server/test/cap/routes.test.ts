/**
 * The real alert engine produces one CAP message per public change; the API serves them as
 * schema-valid CAP 1.2, the Atom feed links them, and delivery status is visible per alert.
 */
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { createBrokerCounters } from '../../src/broker/access.ts';
import { CapLog } from '../../src/cap/cap-log.ts';
import { createIngestCounters } from '../../src/ingest/counters.ts';
import { Outbox } from '../../src/notify/outbox.ts';
import { RecipientStore } from '../../src/recipients/store.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { GatewayStateStore } from '../../src/storage/gateway-state-store.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { makeEngine, readingFactory, silentLogger, tempDir, testConfig } from '../alerts/helpers.ts';
import { xmllint } from './xmllint.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
let app: FastifyInstance;
let engine: ReturnType<typeof makeEngine>['engine'];

beforeEach(async () => {
  tmp = tempDir();
  db = openDatabase(tmp.dir);
  const config = testConfig({
    sites: [
      { id: 'pos-cikeruh', name: 'Pos <Cikeruh> & Co', areaId: 'jatinangor', lat: -6.93, lon: 107.77, radiusKm: 2 },
      { id: 'lereng-1', name: 'Lereng Bojongkondang', areaId: 'cimanggung', lat: -6.95, lon: 107.82 },
    ],
    cap: { senderId: 'kentongan@bpbd-sumedang.invalid' },
  });
  const recipients = new RecipientStore(db);
  recipients.syncFromConfig(config, new Date());
  const made = makeEngine(db, config);
  engine = made.engine;
  app = await buildApp({
    config,
    store: new SqliteReadingStore(db),
    gatewayState: new GatewayStateStore(db),
    engine,
    ingest: { counters: createIngestCounters(), gatewayActivity: () => new Map() },
    broker: { counters: createBrokerCounters(), connectedGateways: () => new Set(), connectedClients: () => 0 },
    dbHealthy: () => true,
    logger: silentLogger,
    now: () => new Date('2026-11-28T08:00:00.000Z'),
    startedAt: new Date(),
    notify: { recipients, outbox: new Outbox(db), cap: new CapLog(db), channels: config.notify.channels },
  });
});
afterEach(async () => {
  await app.close();
  await engine.stop();
  db.close();
  tmp.cleanup();
});

describe('CAP and Atom routes', () => {
  it('serves every change of an alert as valid CAP 1.2 and lists it in the feed', async () => {
    const r = readingFactory();
    engine.onStoredReadings([r(70), r(70)]); // Waspada
    engine.onStoredReadings([r(170), r(170)]); // Siaga
    const alert = engine.listAlerts()[0]!;
    engine.resolve(alert.id, 'operator Siti', 'aman <ok> & "done"');

    const latest = await app.inject(`/api/v1/cap/alerts/${alert.id}.xml`);
    expect(latest.statusCode).toBe(200);
    expect(latest.headers['content-type']).toMatch(/^application\/cap\+xml/);
    expect(latest.body).toContain('<msgType>Cancel</msgType>');
    expect(latest.body.match(/<references>([^<]*)<\/references>/)![1]!.split(' ')).toHaveLength(2);
    expect(latest.body).toContain('<circle>-6.93,107.77 2</circle>');
    const v = xmllint(latest.body);
    expect(v.ok, v.output).toBe(true);

    const feed = await app.inject({ url: '/feeds/alerts.atom', headers: { host: 'ews.example:8080' } });
    expect(feed.statusCode).toBe(200);
    expect(feed.headers['content-type']).toMatch(/^application\/atom\+xml/);
    expect(xmllint(feed.body, null).ok).toBe(true);
    const link = /href="http:\/\/ews\.example:8080(\/api\/v1\/cap\/messages\/[^"]+)"/.exec(feed.body)![1]!;
    const msg = await app.inject(link);
    expect(msg.statusCode).toBe(200);
    expect(msg.body).toBe(latest.body); // the same message
    for (const n of [1, 2]) {
      const earlier = await app.inject(`/api/v1/cap/messages/kentongan-${alert.id}-${n}.xml`);
      expect(xmllint(earlier.body).ok).toBe(true);
      expect(earlier.body).toContain(n === 1 ? '<msgType>Alert</msgType>' : '<msgType>Update</msgType>');
    }
  });

  it('answers 404 for unknown or hostile names, and a hostile Host header cannot enter links', async () => {
    for (const url of ['/api/v1/cap/alerts/nope.xml', '/api/v1/cap/alerts/..%2F..%2Fetc%2Fpasswd', '/api/v1/cap/messages/%3Cx%3E.xml', '/api/v1/cap/messages/a.json']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('CAP_NOT_FOUND');
    }
    const feed = await app.inject({ url: '/feeds/alerts.atom', headers: { host: 'evil"><x' } });
    expect(feed.statusCode).toBe(200);
    expect(xmllint(feed.body, null).ok).toBe(true);
    expect(feed.body).not.toContain('evil');
  });

  it('shows the delivery status of an alert per channel', async () => {
    const r = readingFactory();
    engine.onStoredReadings([r(70), r(70)]);
    const alert = engine.listAlerts()[0]!;
    engine.start();
    const until = Date.now() + 3000;
    while (engine.stats().notificationsPending > 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
    const res = await app.inject(`/api/v1/alerts/${alert.id}/deliveries`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.totals).toEqual({ pending: 0, sent: 1, failed: 0, superseded: 0, cancelled: 0 });
    expect(body.channels).toEqual([{ channelId: 'console', channelKind: 'console', counts: body.totals }]);
    expect(body.rows[0]).toMatchObject({ channelId: 'console', change: 'opened', recipientId: null, status: 'sent' });
    expect((await app.inject('/api/v1/alerts/nope/deliveries')).statusCode).toBe(404);
    expect((await app.inject(`/api/v1/alerts/${alert.id}/deliveries?status=bogus`)).statusCode).toBe(400);
  });
});
