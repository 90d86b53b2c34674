import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { NotificationChannel } from '../../src/notify/channel.ts';
import { createConsoleChannel } from '../../src/notify/console-channel.ts';
import { backoffDelayMs, Dispatcher } from '../../src/notify/dispatcher.ts';
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

function enqueue(channel: NotificationChannel, alertId: string, now: Date) {
  const key = `${alertId}:opened:Siaga:${channel.id}`;
  outbox.enqueue({ dedupeKey: key, channelId: channel.id, channelKind: channel.kind, payload: samplePayload(alertId) }, now);
  return key;
}

describe('backoffDelayMs', () => {
  it('doubles from the base and stops at the cap', () => {
    const opts = { baseMs: 1000, maxMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, opts))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelayMs(10_000, opts)).toBe(10_000);
  });
});

describe('outbox', () => {
  it('ignores a second row with the same dedupe key', () => {
    const clock = manualClock();
    const ch = createConsoleChannel({ kind: 'console', id: 'console' }, { consoleWriter: () => {} });
    enqueue(ch, 'a1', clock.now());
    enqueue(ch, 'a1', clock.now());
    expect(outbox.counts()).toEqual({ pending: 1, sent: 0, failed: 0, superseded: 0, cancelled: 0 });
  });
});

describe('dispatcher', () => {
  it('retries a failing webhook with exponential back-off and delivers exactly once per key', async () => {
    const rx = await startReceiver((n) => (n <= 2 ? 503 : 200));
    closers.push(rx.close);
    const clock = manualClock();
    const t = manualTimers();
    const hook = createWebhookChannel(
      { kind: 'webhook', id: 'hook', url: rx.url, timeoutMs: 2000, maxAttempts: 5 },
      { fetchImpl: fetch, now: clock.now },
    );
    const keyA = enqueue(hook, 'a1', clock.now());
    const keyB = enqueue(hook, 'a2', clock.now());
    const d = new Dispatcher({ outbox, channels: [hook], logger: silentLogger, now: clock.now, timers: t.timers, backoff: { baseMs: 1000, maxMs: 60_000 } });
    d.start();
    await d.idle();
    expect(t.delays()).toEqual([1000]); // both failed once; next try in base ms
    expect(outbox.due('hook', clock.ms(), 10)).toEqual([]);

    clock.advance(1000);
    t.fireAll();
    await d.idle();
    expect(t.delays()).toEqual([2000]);

    clock.advance(2000);
    t.fireAll();
    await d.idle();
    expect(t.delays()).toEqual([]); // nothing pending: no timer
    expect(outbox.counts()).toEqual({ pending: 0, sent: 2, failed: 0, superseded: 0, cancelled: 0 });
    expect(rx.received).toHaveLength(6);
    expect(rx.deliveredPerKey()).toEqual(new Map([[keyA, 1], [keyB, 1]]));
    const rows = db.prepare('SELECT attempts, status FROM outbox_notifications ORDER BY id').all();
    expect(rows).toEqual([
      { attempts: 3, status: 'sent' },
      { attempts: 3, status: 'sent' },
    ]);
    await d.stop();
  });

  it('marks a row failed after maxAttempts and keeps the last error', async () => {
    const rx = await startReceiver(() => 500);
    closers.push(rx.close);
    const clock = manualClock();
    const t = manualTimers();
    const hook = createWebhookChannel(
      { kind: 'webhook', id: 'hook', url: rx.url, timeoutMs: 2000, maxAttempts: 2 },
      { fetchImpl: fetch, now: clock.now },
    );
    enqueue(hook, 'a1', clock.now());
    const d = new Dispatcher({ outbox, channels: [hook], logger: silentLogger, now: clock.now, timers: t.timers });
    d.start();
    await d.idle();
    clock.advance(1000);
    t.fireAll();
    await d.idle();
    expect(outbox.counts()).toEqual({ pending: 0, sent: 0, failed: 1, superseded: 0, cancelled: 0 });
    const row = db.prepare('SELECT attempts, last_error FROM outbox_notifications').get();
    expect(row).toEqual({ attempts: 2, last_error: 'webhook answered HTTP 500' });
    expect(rx.received).toHaveLength(2);
    await d.stop();
  });

  it('a hanging webhook does not hold back the console channel', async () => {
    const rx = await startReceiver(() => 'hang');
    closers.push(rx.close);
    const clock = manualClock();
    const lines: string[] = [];
    const hook = createWebhookChannel(
      { kind: 'webhook', id: 'hook', url: rx.url, timeoutMs: 10_000, maxAttempts: 3 },
      { fetchImpl: fetch, now: clock.now },
    );
    const cons = createConsoleChannel({ kind: 'console', id: 'console' }, { consoleWriter: (s) => lines.push(s) });
    enqueue(hook, 'a1', clock.now());
    enqueue(cons, 'a1', clock.now());
    enqueue(cons, 'a2', clock.now());
    const d = new Dispatcher({ outbox, channels: [hook, cons], logger: silentLogger, now: clock.now });
    d.start();
    const started = Date.now();
    while ((lines.length < 2 || outbox.counts().sent < 2) && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 5));
    expect(lines).toEqual(['SIAGA BANJIR ... | SIAGA FLOOD ...\n', 'SIAGA BANJIR ... | SIAGA FLOOD ...\n']);
    expect(outbox.counts()).toEqual({ pending: 1, sent: 2, failed: 0, superseded: 0, cancelled: 0 });
    // Closing the receiver fails the in-flight request; stop() waits for it to settle.
    await rx.close();
    closers.pop();
    await d.stop();
    expect(outbox.counts().pending).toBe(1); // retried later, not lost
  });

  it('fails pending rows of channels that are no longer configured', () => {
    const clock = manualClock();
    const gone = createConsoleChannel({ kind: 'console', id: 'old-console' }, { consoleWriter: () => {} });
    enqueue(gone, 'a1', clock.now());
    const d = new Dispatcher({ outbox, channels: [], logger: silentLogger, now: clock.now, timers: manualTimers().timers });
    d.start();
    expect(outbox.counts()).toEqual({ pending: 0, sent: 0, failed: 1, superseded: 0, cancelled: 0 });
  });

  it('a throwing console writer is retried, then marked failed', async () => {
    const clock = manualClock();
    const t = manualTimers();
    const cons = createConsoleChannel({ kind: 'console', id: 'console' }, {
      consoleWriter: () => {
        throw new Error('EPIPE');
      },
    });
    enqueue(cons, 'a1', clock.now());
    const d = new Dispatcher({ outbox, channels: [cons], logger: silentLogger, now: clock.now, timers: t.timers, backoff: { baseMs: 10, maxMs: 10 } });
    d.start();
    for (let i = 0; i < 3; i++) {
      await d.idle();
      clock.advance(10);
      t.fireAll();
    }
    await d.idle();
    expect(outbox.counts()).toEqual({ pending: 0, sent: 0, failed: 1, superseded: 0, cancelled: 0 });
    expect(db.prepare('SELECT attempts FROM outbox_notifications').get()).toEqual({ attempts: 3 });
  });
});
