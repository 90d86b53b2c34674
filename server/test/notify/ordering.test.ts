/**
 * Delivery order per (alert, channel): a retried warning is never overtaken by what followed it,
 * stale de-escalations are superseded, and nothing holds other alerts or other channels.
 * Real SQLite, real HTTP receiver, manual clock and timers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { Level } from '@kentongan/firmware-protocol';
import type { AlertChange } from '../../src/alerts/types.ts';
import { createConsoleChannel } from '../../src/notify/console-channel.ts';
import { Dispatcher } from '../../src/notify/dispatcher.ts';
import type { NotifiableChange } from '../../src/notify/messages.ts';
import { Notifier } from '../../src/notify/notifier.ts';
import { Outbox } from '../../src/notify/outbox.ts';
import { createWebhookChannel } from '../../src/notify/webhook-channel.ts';
import { manualClock, openDb, silentLogger, tempDir } from '../alerts/helpers.ts';
import { samplePayload } from './fixtures.ts';
import { startReceiver } from './http-helper.ts';
import { manualTimers } from './timers-helper.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
let outbox: Outbox;
const closers: (() => Promise<void>)[] = [];

beforeEach(() => {
  tmp = tempDir();
  db = openDb(tmp.dbPath);
  outbox = new Outbox(db);
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
  db.close();
  tmp.cleanup();
});

/** A webhook (receiver answering `respond`) and a console channel, a dispatcher on manual time. */
async function setup(respond: (n: number, key: string) => number, maxAttempts = 5) {
  const rx = await startReceiver(respond);
  closers.push(rx.close);
  const clock = manualClock();
  const t = manualTimers();
  const lines: string[] = [];
  const hook = createWebhookChannel(
    { kind: 'webhook', id: 'hook', url: rx.url, timeoutMs: 2000, maxAttempts },
    { fetchImpl: fetch, now: clock.now },
  );
  const cons = createConsoleChannel({ kind: 'console', id: 'console' }, { consoleWriter: (s) => lines.push(s) });
  const d = new Dispatcher({
    outbox,
    channels: [hook, cons],
    logger: silentLogger,
    now: clock.now,
    timers: t.timers,
    backoff: { baseMs: 1000, maxMs: 60_000 },
    // One send at a time per channel, so a test can queue a change while a send is in flight.
    delivery: {
      perRecipient: { burst: 100, perSecond: 100 },
      defaultChannel: { concurrency: 1, rate: { burst: 1000, perSecond: 1000 } },
      channels: {},
    },
  });
  closers.push(() => d.stop());
  const notifier = new Notifier(outbox, [hook, cons], 'BPBD Sumedang');
  /** Queues one alert change the way the engine does, then lets the dispatcher run. */
  async function change(alertId: string, kind: AlertChange['change'], from: Level | null, to: Level) {
    const alert = { ...samplePayload(alertId).alert, level: to, state: kind === 'resolved' ? ('resolved' as const) : ('open' as const) };
    const at = clock.now().toISOString();
    notifier.enqueue({ alert, change: kind, from, to, actor: 'rule:r1', at }, { siteName: 'Pos Cikeruh', areaName: 'Kec. Jatinangor' }, 1, clock.now());
    d.kick();
    await d.idle();
  }
  /** Lets `ms` pass and fires the armed timers. */
  async function elapse(ms: number) {
    clock.advance(ms);
    t.fireAll();
    await d.idle();
  }
  /** What the receiver accepted, in arrival order, as `alertId:change:to`. */
  const delivered = () =>
    rx.received
      .filter((r) => r.status === 200)
      .map((r) => JSON.parse(r.body) as { alert: { id: string }; change: string; to: string })
      .map((b) => `${b.alert.id}:${b.change}:${b.to}`);
  const hookStatuses = (alertId: string) => outbox.forAlert(alertId).filter((r) => r.channelId === 'hook').map((r) => `${r.change}:${r.status}`);
  return { rx, d, t, lines, change, elapse, delivered, hookStatuses };
}

describe('delivery order per alert and channel', () => {
  it('sends a retried AWAS before the all-clear queued behind it, each exactly once', async () => {
    const s = await setup((n, key) => (key.startsWith('a1:opened:Awas') && n <= 2 ? 503 : 200));
    s.d.start();
    await s.change('a1', 'opened', null, 'Awas');
    expect(s.rx.received.map((r) => r.status)).toEqual([503]);

    await s.elapse(100);
    await s.change('a1', 'resolved', 'Awas', 'Normal');
    // Held: the webhook saw nothing new, while the console printed both at once.
    expect(s.rx.received).toHaveLength(1);
    expect(s.hookStatuses('a1')).toEqual(['opened:pending', 'resolved:pending']);
    expect(s.lines.map((l) => l.slice(0, 5))).toEqual(['AWAS ', 'AMAN:']);
    // The only timer is the AWAS retry (1000 ms after its failure); the held row does not arm one.
    expect(s.t.delays()).toEqual([900]);

    await s.elapse(900);
    expect(s.rx.received.map((r) => r.status)).toEqual([503, 503]);
    expect(s.t.delays()).toEqual([2000]);

    await s.elapse(2000);
    expect(s.delivered()).toEqual(['a1:opened:Awas', 'a1:resolved:Normal']);
    expect(s.rx.deliveredPerKey()).toEqual(new Map([['a1:opened:Awas:hook', 1], ['a1:resolved:Normal:hook', 1]]));
    expect(s.rx.received).toHaveLength(4);
    expect(s.hookStatuses('a1')).toEqual(['opened:sent', 'resolved:sent']);
    expect(s.t.delays()).toEqual([]);
  });

  it('releases the held message right after the one before it fails for good', async () => {
    const s = await setup((_n, key) => (key.startsWith('a1:opened') ? 500 : 200), 2);
    s.d.start();
    await s.change('a1', 'opened', null, 'Awas');
    await s.change('a1', 'resolved', 'Awas', 'Normal');
    expect(s.rx.received).toHaveLength(1);
    await s.elapse(1000);
    expect(s.rx.received.map((r) => `${r.headers['idempotency-key']}=${r.status}`)).toEqual([
      'a1:opened:Awas:hook=500',
      'a1:opened:Awas:hook=500',
      'a1:resolved:Normal:hook=200',
    ]);
    expect(s.hookStatuses('a1')).toEqual(['opened:failed', 'resolved:sent']);
  });

  it('a failing alert holds neither another alert on the same channel nor the console channel', async () => {
    const s = await setup((_n, key) => (key.startsWith('a1:') ? 503 : 200));
    s.d.start();
    await s.change('a1', 'opened', null, 'Awas');
    await s.elapse(10);
    await s.change('a2', 'opened', null, 'Siaga');
    await s.change('a2', 'escalated', 'Siaga', 'Awas');
    await s.change('a1', 'resolved', 'Awas', 'Normal');
    await s.change('a2', 'resolved', 'Awas', 'Normal');
    expect(s.delivered()).toEqual(['a2:opened:Siaga', 'a2:escalated:Awas', 'a2:resolved:Normal']);
    expect(s.hookStatuses('a1')).toEqual(['opened:pending', 'resolved:pending']);
    expect(s.lines).toHaveLength(5); // every console message went out at once
    expect(s.t.delays()).toEqual([990]); // only a1's retry is armed
  });
});

describe('superseding', () => {
  it('drops pending de-escalations once a newer message is queued, never an escalation', async () => {
    const s = await setup((n, key) => (key.startsWith('a1:opened') && n <= 2 ? 503 : 200));
    s.d.start();
    await s.change('a1', 'opened', null, 'Siaga');
    await s.change('a1', 'deescalated', 'Siaga', 'Waspada');
    await s.change('a1', 'escalated', 'Waspada', 'Awas');
    await s.change('a1', 'deescalated', 'Awas', 'Siaga');
    expect(s.hookStatuses('a1')).toEqual(['opened:pending', 'deescalated:superseded', 'escalated:pending', 'deescalated:pending']);
    await s.change('a1', 'resolved', 'Siaga', 'Normal');
    expect(s.hookStatuses('a1')).toEqual([
      'opened:pending',
      'deescalated:superseded',
      'escalated:pending',
      'deescalated:superseded',
      'resolved:pending',
    ]);
    await s.elapse(1000);
    await s.elapse(2000);
    expect(s.delivered()).toEqual(['a1:opened:Siaga', 'a1:escalated:Awas', 'a1:resolved:Normal']);
    expect(s.rx.received.some((r) => String(r.headers['idempotency-key']).includes('deescalated'))).toBe(false);
    // The console had sent each message before the next was queued: nothing there was stale.
    expect(s.lines).toHaveLength(5);
    expect(outbox.counts()).toEqual({ pending: 0, sent: 8, failed: 0, superseded: 2, cancelled: 0 });
  });

  it('a de-escalation backing off does not hold the escalation that follows it', async () => {
    const s = await setup((_n, key) => (key.startsWith('a1:deescalated') ? 503 : 200));
    s.d.start();
    await s.change('a1', 'opened', null, 'Awas');
    await s.change('a1', 'deescalated', 'Awas', 'Siaga');
    expect(s.t.delays()).toEqual([1000]);
    await s.elapse(10);
    await s.change('a1', 'escalated', 'Siaga', 'Awas');
    // Sent at once, not after the de-escalation's back-off.
    expect(s.delivered()).toEqual(['a1:opened:Awas', 'a1:escalated:Awas']);
    expect(s.hookStatuses('a1')).toEqual(['opened:sent', 'deescalated:superseded', 'escalated:sent']);
    expect(s.t.delays()).toEqual([]);
  });

  it('re-checks right before sending: a message queued during the batch still supersedes', async () => {
    let queueLater: (() => void) | null = null;
    const s = await setup((_n, key) => {
      // While the batch is sending a0's message, a1 resolves (as the engine would, mid-batch).
      if (key.startsWith('a0:') && queueLater) queueLater();
      return 200;
    });
    await s.change('a0', 'opened', null, 'Siaga'); // not started yet: both rows wait for one batch
    await s.change('a1', 'deescalated', 'Awas', 'Siaga');
    queueLater = () => {
      queueLater = null;
      void s.change('a1', 'resolved', 'Siaga', 'Normal');
    };
    s.d.start();
    await s.d.idle();
    expect(s.delivered()).toEqual(['a0:opened:Siaga', 'a1:resolved:Normal']);
    expect(s.hookStatuses('a1')).toEqual(['deescalated:superseded', 'resolved:sent']);
  });
});

describe('outbox order bookkeeping', () => {
  function put(alertId: string, change: NotifiableChange, channelId: string, atMs: number) {
    const payload = { ...samplePayload(alertId), change };
    outbox.enqueue({ dedupeKey: `${alertId}:${change}:${channelId}:${atMs}`, channelId, channelKind: 'webhook', payload }, new Date(atMs));
  }

  it('hands out only the oldest pending row per alert and channel', () => {
    for (const a of ['a1', 'a2']) for (const [i, c] of (['opened', 'escalated', 'resolved'] as const).entries()) put(a, c, 'hook', 1000 + i);
    put('a1', 'opened', 'other', 1000);
    const due = outbox.due('hook', 5000, 50);
    expect(due.map((r) => `${r.alertId}:${r.change}`)).toEqual(['a1:opened', 'a2:opened']);
    outbox.markRetry(due[0]!.id, 1, 9000, 'HTTP 503');
    expect(outbox.due('hook', 5000, 50).map((r) => `${r.alertId}:${r.change}`)).toEqual(['a2:opened']);
    outbox.markSent(due[1]!.id, 1, new Date(5000));
    expect(outbox.due('hook', 5000, 50).map((r) => `${r.alertId}:${r.change}`)).toEqual(['a2:escalated']);
    outbox.markFailed(due[0]!.id, 5, 'HTTP 503');
    expect(outbox.due('hook', 5000, 50).map((r) => `${r.alertId}:${r.change}`)).toEqual(['a1:escalated', 'a2:escalated']);
    expect(outbox.due('other', 5000, 50)).toHaveLength(1);
  });

  it('ignores held rows when computing the next wake-up', () => {
    put('a1', 'opened', 'hook', 1000);
    put('a1', 'resolved', 'hook', 1001);
    const [head] = outbox.due('hook', 5000, 50);
    outbox.markRetry(head!.id, 1, 8000, 'HTTP 503');
    expect(outbox.nextDueAt('hook')).toBe(8000);
    expect(outbox.nextDueAt('nobody')).toBeNull();
  });

  it('a row superseded while in flight records a success as sent and a failure as superseded', () => {
    put('a1', 'deescalated', 'hook', 1000);
    put('a2', 'deescalated', 'hook', 1000);
    const [x, y] = outbox.due('hook', 5000, 50);
    put('a1', 'resolved', 'hook', 1001);
    put('a2', 'resolved', 'hook', 1001);
    expect(outbox.supersedeStale('hook')).toBe(2);
    outbox.markSent(x!.id, 1, new Date(5000));
    outbox.markFailed(y!.id, 1, 'HTTP 500');
    expect(outbox.forAlert('a1').map((r) => r.status)).toEqual(['sent', 'pending']);
    expect(outbox.forAlert('a2').map((r) => r.status)).toEqual(['superseded', 'pending']);
  });

  it('supersedes only de-escalations with a newer row of the same alert and channel, and only when asked', () => {
    put('a1', 'deescalated', 'hook', 1000);
    put('a1', 'deescalated', 'hook', 1000); // duplicate dedupe key: ignored
    put('a1', 'escalated', 'hook', 1001);
    put('a1', 'deescalated', 'hook', 1002); // newest: kept
    put('a1', 'deescalated', 'other', 1000); // other channel: kept
    put('a2', 'deescalated', 'hook', 1000); // other alert: kept
    expect(outbox.counts().superseded).toBe(0); // queuing alone decides nothing
    expect(outbox.supersedeStale('hook')).toBe(1);
    expect(outbox.forAlert('a1').map((r) => `${r.channelId}:${r.change}:${r.status}`)).toEqual([
      'hook:deescalated:superseded',
      'hook:escalated:pending',
      'hook:deescalated:pending',
      'other:deescalated:pending',
    ]);
    const [esc] = outbox.due('hook', 5000, 50);
    expect(outbox.supersedeIfStale(esc!.id)).toBe(false); // an escalation never is
    expect(outbox.forAlert('a2').map((r) => r.status)).toEqual(['pending']);
  });

  it('upgrades a database created before the superseded status and per-recipient rows, keeping rows and ids', () => {
    const old = openDb(`${tmp.dir}/old.db`);
    old.exec(`CREATE TABLE outbox_notifications (
      id INTEGER PRIMARY KEY AUTOINCREMENT, dedupe_key TEXT NOT NULL UNIQUE, channel_id TEXT NOT NULL,
      channel_kind TEXT NOT NULL, alert_id TEXT NOT NULL, change TEXT NOT NULL, payload TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')), attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL, last_error TEXT, created_at TEXT NOT NULL, sent_at TEXT);
      CREATE INDEX outbox_notifications_due ON outbox_notifications(channel_id, status, next_attempt_at);`);
    const payload = JSON.stringify({ ...samplePayload('a1'), change: 'deescalated' });
    old
      .prepare(`INSERT INTO outbox_notifications (id, dedupe_key, channel_id, channel_kind, alert_id, change, payload, status, next_attempt_at, created_at)
        VALUES (7, 'k7', 'hook', 'webhook', 'a1', 'deescalated', ?, 'pending', 1000, '2026-11-28T07:00:00.000Z')`)
      .run(payload);
    const box = new Outbox(old);
    box.enqueue({ dedupeKey: 'k8', channelId: 'hook', channelKind: 'webhook', payload: { ...samplePayload('a1'), change: 'resolved' } }, new Date(2000));
    box.supersedeStale('hook');
    expect(box.forAlert('a1').map((r) => `${r.id}:${r.status}`)).toEqual(['7:superseded', '8:pending']);
    const indexes = old.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox_notifications' AND sql IS NOT NULL ORDER BY name`).all();
    expect(indexes).toEqual([
      { name: 'outbox_notifications_alert' },
      { name: 'outbox_notifications_due' },
      { name: 'outbox_notifications_order2' },
    ]);
    new Outbox(old); // a second open changes nothing
    expect(box.counts()).toEqual({ pending: 1, sent: 0, failed: 0, superseded: 1, cancelled: 0 });
    old.close();
  });
});
