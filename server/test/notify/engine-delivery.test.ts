import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { makeEngine, openDb, readingFactory, tempDir, testConfig, waitFor } from '../alerts/helpers.ts';
import { startReceiver } from './http-helper.ts';

const SECRET = 'demo-webhook-secret-0123456789';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
const closers: (() => Promise<void>)[] = [];

beforeEach(() => {
  tmp = tempDir();
  db = openDb(tmp.dbPath);
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
  db.close();
  tmp.cleanup();
});

describe('engine notifications end to end', () => {
  // These tests run the dispatcher on real timers, so they use the real clock as well.
  it('delivers every change to console and webhook, retrying the webhook, once per dedupe key', async () => {
    const rx = await startReceiver((n) => (n <= 2 ? 500 : 200));
    closers.push(rx.close);
    const config = testConfig({
      notify: {
        sender: 'BPBD Sumedang',
        channels: [
          { kind: 'console', id: 'console' },
          { kind: 'webhook', id: 'bpbd-hook', url: rx.url, secret: SECRET, timeoutMs: 2000, maxAttempts: 5 },
        ],
      },
    });
    const { engine, lines } = makeEngine(db, config, { fetchImpl: fetch, now: () => new Date(), backoff: { baseMs: 5, maxMs: 20 } });
    closers.push(() => engine.stop());
    engine.start();
    const r = readingFactory();
    engine.onStoredReadings([r(220), r(230)]); // opened Awas
    engine.onStoredReadings([r(10), r(10), r(10)]); // deescalated Siaga
    await waitFor(() => engine.stats().notificationsPending === 0);

    const stats = engine.stats();
    expect(stats).toEqual({ alertsRaised: 1, maxLevel: 'Awas', notificationsSent: 4, notificationsFailed: 0, notificationsPending: 0 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^AWAS BANJIR di Pos Cikeruh, Kec\. Jatinangor: muka air 230 cm, 28\/11\/2026 14:02 WIB\. SEGERA MENGUNGSI.* \| AWAS FLOOD at /);
    expect(lines[1]).toMatch(/^TURUN ke SIAGA BANJIR/);

    const alertId = engine.listAlerts()[0]!.id;
    expect(rx.deliveredPerKey()).toEqual(
      new Map([
        [`${alertId}:opened:Awas:bpbd-hook`, 1],
        [`${alertId}:deescalated:Siaga:bpbd-hook`, 1],
      ]),
    );
    expect(rx.received).toHaveLength(6); // 2 failures + 1 success per key
    for (const req of rx.received) {
      const sig = `sha256=${createHmac('sha256', SECRET).update(req.body).digest('hex')}`;
      expect(req.headers['x-kentongan-signature']).toBe(sig);
    }
    const ok = rx.received.filter((q) => q.status === 200).map((q) => JSON.parse(q.body));
    expect(ok.map((b) => `${b.change}:${b.to}`).sort()).toEqual(['deescalated:Siaga', 'opened:Awas']);
    expect(ok[0].message.id).toMatch(/WIB/);
    expect(ok[0].message.en).toMatch(/WIB/);
  });

  it('an AWAS the webhook refused at first still reaches it before the all-clear', async () => {
    const rx = await startReceiver((n, key) => (key.includes(':opened:Awas:') && n <= 2 ? 503 : 200));
    closers.push(rx.close);
    const config = testConfig({
      notify: {
        channels: [
          { kind: 'webhook', id: 'hook', url: rx.url, timeoutMs: 2000, maxAttempts: 5 },
          { kind: 'console', id: 'console' },
        ],
      },
    });
    const { engine, lines } = makeEngine(db, config, { fetchImpl: fetch, now: () => new Date(), backoff: { baseMs: 20, maxMs: 40 } });
    closers.push(() => engine.stop());
    engine.start();
    const r = readingFactory();
    engine.onStoredReadings([r(220), r(230)]); // opened Awas; its first POST is refused
    engine.onStoredReadings(Array.from({ length: 9 }, () => r(10))); // Siaga, Waspada, then Normal (resolved)
    await waitFor(() => engine.stats().notificationsPending === 0);

    const ok = rx.received.filter((q) => q.status === 200).map((q) => JSON.parse(q.body) as { change: string; to: string });
    expect(ok.map((b) => `${b.change}:${b.to}`)).toEqual(['opened:Awas', 'resolved:Normal']);
    expect([...rx.deliveredPerKey().values()]).toEqual([1, 1]);
    // The de-escalations were stale before they could go out: superseded on both channels.
    const rows = db.prepare(`SELECT channel_id AS ch, change, status FROM outbox_notifications ORDER BY id`).all();
    expect(rows.filter((o) => (o as { ch: string }).ch === 'hook')).toEqual([
      { ch: 'hook', change: 'opened', status: 'sent' },
      { ch: 'hook', change: 'deescalated', status: 'superseded' },
      { ch: 'hook', change: 'deescalated', status: 'superseded' },
      { ch: 'hook', change: 'resolved', status: 'sent' },
    ]);
    expect(lines.map((l) => l.slice(0, 5))).toEqual(['AWAS ', 'AMAN:']);
  });

  it('a dead webhook ends as failed and never blocks the console', async () => {
    const rx = await startReceiver(() => 503);
    closers.push(rx.close);
    const config = testConfig({
      notify: {
        channels: [
          { kind: 'webhook', id: 'hook', url: rx.url, timeoutMs: 1000, maxAttempts: 3 },
          { kind: 'console', id: 'console' },
        ],
      },
    });
    const { engine, lines } = makeEngine(db, config, { fetchImpl: fetch, now: () => new Date(), backoff: { baseMs: 5, maxMs: 5 } });
    closers.push(() => engine.stop());
    engine.start();
    const r = readingFactory();
    engine.onStoredReadings([r(70), r(70)]);
    await waitFor(() => lines.length === 1);
    await waitFor(() => engine.stats().notificationsPending === 0);
    expect(engine.stats()).toMatchObject({ notificationsSent: 1, notificationsFailed: 1 });
    expect(rx.received).toHaveLength(3);
  });

  it('queues while stopped and sends after a restart on the same database', async () => {
    const r = readingFactory();
    const first = makeEngine(db, testConfig());
    first.engine.onStoredReadings([r(70), r(70)]); // never started: the row waits in the outbox
    expect(first.engine.stats().notificationsPending).toBe(1);
    db.close();
    db = openDb(tmp.dbPath);
    const second = makeEngine(db, testConfig());
    second.engine.start();
    await waitFor(() => second.lines.length === 1);
    await second.engine.stop();
    expect(second.engine.stats()).toMatchObject({ notificationsSent: 1, notificationsPending: 0 });
    expect(first.lines).toEqual([]);
  });
});
