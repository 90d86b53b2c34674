import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertChange } from '../../src/alerts/types.ts';
import { serverConfigSchema } from '../../src/config/schema.ts';
import { Dispatcher } from '../../src/notify/dispatcher.ts';
import { Notifier } from '../../src/notify/notifier.ts';
import { Outbox } from '../../src/notify/outbox.ts';
import { RecipientStore } from '../../src/recipients/store.ts';
import { manualClock, openDb, silentLogger, tempDir } from '../alerts/helpers.ts';
import { samplePayload } from './fixtures.ts';
import { startSmsReceiver, testSmsChannel } from './sms-helper.ts';
import { manualTimers } from './timers-helper.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
let outbox: Outbox;
let recipients: RecipientStore;
const closers: (() => Promise<void>)[] = [];

const config = serverConfigSchema.parse({
  areas: [
    { id: 'kec', name: 'Kec. Cimanggung', kind: 'kecamatan' },
    { id: 'desa1', name: 'Desa Cihanjuang', kind: 'desa', parentId: 'kec' },
    { id: 'desa2', name: 'Desa Sindulang', kind: 'desa', parentId: 'kec' },
  ],
  notify: { channels: [{ kind: 'console', id: 'sms' }, { kind: 'console', id: 'sms2' }] },
  recipients: {
    staff: [
      { id: 'op1', role: 'operator', channelId: 'sms', address: '081200000001' },
      { id: 'op2', role: 'operator', channelId: 'sms', address: '081200000002', escalationOrder: 2 },
      { id: 'op3', role: 'operator', channelId: 'sms', address: '081200000003', escalationOrder: 3 },
      { id: 'sar', role: 'responder', channelId: 'sms', address: '081200000004', areaIds: ['desa1'] },
      { id: 'kades2', role: 'village_head', channelId: 'sms', address: '081200000005', areaIds: ['desa2'] },
      { id: 'tech', role: 'technician', channelId: 'sms', address: '081200000006' },
    ],
  },
});

beforeEach(() => {
  tmp = tempDir();
  db = openDb(tmp.dbPath);
  db.pragma('foreign_keys = ON');
  outbox = new Outbox(db);
  recipients = new RecipientStore(db);
  recipients.syncFromConfig(config, new Date());
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
  db.close();
  tmp.cleanup();
});

function resident(phone: string, areaIds: string[], confirm = true, channelId = 'sms', language: 'id' | 'en' | 'su' = 'id') {
  const { recipient, code } = recipients.requestSubscription({ channelId, channelKind: 'http-gateway', address: phone, areaIds, language }, new Date(), 30);
  if (confirm) recipients.confirm(recipient.id, code, new Date());
  return recipient.id;
}

function change(kind: string, to: 'Waspada' | 'Siaga' | 'Awas' | 'Normal', extra: Record<string, unknown> = {}, alertId = 'al-1'): AlertChange {
  const alert = { ...samplePayload(alertId).alert, hazard: 'landslide' as const, areaId: 'desa1', level: to, ...extra };
  return { alert, change: kind as AlertChange['change'], from: null, to, actor: 'rule:r1', at: '2026-11-28T08:00:00.000Z', ...extra };
}

const CTX = { siteName: 'Bojongkondang', areaName: 'Desa Cihanjuang', quantity: 'displacement' as const };

function queued(alertId = 'al-1') {
  const phone = new Map(db.prepare<[], { id: string; address: string }>('SELECT id, address FROM notify_recipients').all().map((r) => [r.id, r.address]));
  return outbox.forAlert(alertId).map((r) => ({ to: phone.get(r.recipientId) ?? r.recipientId, role: r.recipientRole, text: r.text ?? '' }));
}

describe('fan-out routing', () => {
  it('public landslide change: area and parent-area residents, operators on call, responders get stop-work', () => {
    resident('081300000001', ['desa1']);
    resident('081300000002', ['desa1', 'kec']); // both: still one message
    resident('081300000003', ['kec']);
    resident('081300000004', ['desa2']);
    resident('081300000005', ['desa1'], false); // not confirmed
    const n = new Notifier(outbox, [{ id: 'sms', kind: 'http-gateway' }, { id: 'hook', kind: 'webhook' }], 'BPBD Sumedang');
    expect(n.enqueue(change('opened', 'Awas'), CTX, 1, new Date())).toBe(6);
    const rows = queued();
    // '' is the webhook's one system row; op2/op3 (later on-call), desa2, the unconfirmed one and the technician are not here.
    expect(rows.map((r) => r.to).sort()).toEqual(['', '+6281200000001', '+6281200000004', '+6281300000001', '+6281300000002', '+6281300000003']);
    expect(rows.find((r) => r.to === '')?.role ?? null).toBeNull(); // the webhook row: no recipient
    expect(rows.find((r) => r.to === '+6281200000004')!.text).toMatch(/^STOP KERJA AWAS LONGSOR/);
    expect(rows.find((r) => r.to === '+6281300000003')!.text).toMatch(/^AWAS LONGSOR Bojongkondang, Desa Cihanjuang .* SEGERA MENGUNGSI/);
    // The same change again: deduplicated, nothing new.
    expect(n.enqueue(change('opened', 'Awas'), CTX, 1, new Date())).toBe(0);
  });

  it('a webhook channel with staff attached fans out per person; one without stays one system row', () => {
    recipients.syncFromConfig(
      { ...config, recipients: { ...config.recipients, staff: [{ ...config.recipients.staff[0]!, channelId: 'bot' }] }, notify: { ...config.notify, channels: [...config.notify.channels, { kind: 'console', id: 'bot' }] } },
      new Date(),
    );
    const n = new Notifier(outbox, [{ id: 'bot', kind: 'webhook' }, { id: 'hook', kind: 'webhook' }], 'BPBD Sumedang');
    n.enqueue(change('opened', 'Siaga'), CTX, 1, new Date());
    expect(outbox.forAlert('al-1').map((r) => r.dedupeKey).sort()).toEqual(['al-1:opened:Siaga:bot:s-op1', 'al-1:opened:Siaga:hook']);
  });

  it('technician alerts reach technicians only; unacknowledged ones escalate by on-call order', () => {
    resident('081300000001', ['desa1']);
    const n = new Notifier(outbox, [{ id: 'sms', kind: 'http-gateway' }], 'BPBD Sumedang');
    n.enqueue(change('opened', 'Waspada', { audience: 'technician' }, 'tech-1'), CTX, 1, new Date());
    expect(queued('tech-1').map((r) => r.to)).toEqual(['+6281200000006']);
    expect(queued('tech-1')[0]!.text).toMatch(/^TEKNISI WASPADA: gangguan sensor/);

    n.enqueue(change('unacknowledged', 'Siaga', {}, 'un-1'), CTX, 1, new Date());
    expect(queued('un-1').map((r) => r.to).sort()).toEqual(['+6281200000001', '+6281200000002', '+6281200000004']);
    n.enqueue(change('unacknowledged', 'Siaga', {}, 'un-1'), CTX, 2, new Date());
    expect(queued('un-1').map((r) => r.to).filter((t) => t === '+6281200000003')).toHaveLength(1);
    expect(queued('un-1')[0]!.text).toMatch(/^BELUM DITANGGAPI: SIAGA LONGSOR/);
  });
});

describe('fan-out delivery', () => {
  it('every recipient gets each message exactly once, over HTTP with bounded concurrency; a failing channel blocks nobody', async () => {
    const rx = await startSmsReceiver();
    const down = await startSmsReceiver(() => 503);
    closers.push(rx.close, down.close);
    const phones = Array.from({ length: 300 }, (_, i) => `0813${String(10_000_000 + i)}`);
    for (const p of phones.slice(0, 290)) resident(p, ['desa1']);
    for (const p of phones.slice(290)) resident(p, ['desa1'], true, 'sms2');
    const sms = testSmsChannel('sms', rx.url);
    const broken = testSmsChannel('sms2', down.url, 2);
    const n = new Notifier(outbox, [sms, broken], 'BPBD Sumedang');
    db.transaction(() => n.enqueue(change('opened', 'Siaga'), CTX, 1, new Date()))();
    const d = new Dispatcher({ outbox, channels: [sms, broken], logger: silentLogger, now: () => new Date(), backoff: { baseMs: 5, maxMs: 5 } });
    d.start();
    closers.push(() => d.stop());
    const until = Date.now() + 10_000;
    while ((outbox.counts().pending > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await d.idle();
    expect(rx.total()).toBe(292); // 290 residents, op1, sar
    expect([...rx.byTo.values()].every((l) => l.length === 1)).toBe(true);
    expect([...rx.keys.values()].every((c) => c === 1)).toBe(true);
    expect(outbox.counts()).toMatchObject({ pending: 0, sent: 292, failed: 10 });
    expect(outbox.pendingCount()).toBe(0);
    expect(outbox.forAlert('al-1').find((r) => r.status === 'failed')!.lastError).toMatch(/\+62813\*\*\*\*\d{3}/);
  });

  it('a recipient who left before the send is cancelled, not sent', async () => {
    const rx = await startSmsReceiver();
    closers.push(rx.close);
    const id = resident('081300000001', ['desa1']);
    const sms = testSmsChannel('sms', rx.url);
    new Notifier(outbox, [sms], 'BPBD Sumedang').enqueue(change('opened', 'Siaga'), CTX, 1, new Date());
    recipients.unsubscribe(id);
    const d = new Dispatcher({ outbox, channels: [sms], logger: silentLogger, now: () => new Date() });
    d.start();
    closers.push(() => d.stop());
    await d.idle();
    expect(outbox.counts()).toMatchObject({ sent: 2, cancelled: 1 });
    expect(rx.byTo.has('+6281300000001')).toBe(false);
  });

  it('rate limits make a send wait, never drop it', async () => {
    const rx = await startSmsReceiver();
    closers.push(rx.close);
    resident('081300000001', ['desa1']);
    const clock = manualClock();
    const t = manualTimers();
    const sms = testSmsChannel('sms', rx.url);
    const n = new Notifier(outbox, [sms], 'BPBD Sumedang');
    // Three alerts at once; each person may get 2 now, then one per 10 s.
    for (const a of ['al-1', 'al-2', 'al-3']) n.enqueue(change('opened', 'Siaga', {}, a), CTX, 1, clock.now());
    const d = new Dispatcher({
      outbox,
      channels: [sms],
      logger: silentLogger,
      now: clock.now,
      timers: t.timers,
      delivery: { perRecipient: { burst: 2, perSecond: 0.1 }, defaultChannel: { concurrency: 4, rate: { burst: 100, perSecond: 100 } }, channels: {} },
    });
    d.start();
    closers.push(() => d.stop());
    await d.idle();
    expect(rx.byTo.get('+6281300000001')).toHaveLength(2);
    expect(outbox.counts()).toMatchObject({ pending: 3, sent: 6 }); // op1 and sar are others: 3 each
    expect(outbox.pendingCount()).toBe(3);
    expect(t.delays()).toEqual([10_000]);
    clock.advance(10_000);
    t.fireAll();
    await d.idle();
    expect(rx.byTo.get('+6281300000001')).toHaveLength(3);
    expect(outbox.counts()).toMatchObject({ pending: 0, sent: 9, failed: 0 });
  });

  it('a row queued through another Outbox of the same database (the subscription API) wakes the dispatcher', async () => {
    const rx = await startSmsReceiver();
    closers.push(rx.close);
    const id = resident('081300000009', ['desa1'], false);
    const sms = testSmsChannel('sms', rx.url);
    const d = new Dispatcher({ outbox, channels: [sms], logger: silentLogger, now: () => new Date() });
    d.start();
    closers.push(() => d.stop());
    await d.idle();
    const other = new Outbox(db);
    other.enqueue(
      { dedupeKey: `confirm:${id}:1`, channelId: 'sms', channelKind: 'http-gateway', payload: samplePayload('x'), alertId: `subscription:${id}`, change: 'confirm', recipientId: id, text: 'Kode 123456' },
      new Date(),
    );
    const until = Date.now() + 3000;
    while (!rx.byTo.has('+6281300000009') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(rx.byTo.get('+6281300000009')).toEqual(['Kode 123456']);
  });

  it('status commits skip the fsync but leave the connection at synchronous = FULL', () => {
    db.pragma('synchronous = FULL');
    outbox.enqueue({ dedupeKey: 'k', channelId: 'sms', channelKind: 'http-gateway', payload: samplePayload('s1') }, new Date());
    const row = outbox.forAlert('s1')[0]!;
    outbox.applyResults([{ id: row.id, outcome: 'sent', attempts: 1, at: new Date() }]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(outbox.forAlert('s1')[0]!.status).toBe('sent');
  });

  it('writes 10,000 recipient rows in one transaction quickly', () => {
    const insert = db.prepare(`INSERT INTO notify_recipients (id, kind, role, channel_id, address, language, status, created_at) VALUES (?, 'resident', 'resident', 'sms', ?, 'id', 'active', '')`);
    const area = db.prepare(`INSERT INTO notify_recipient_areas (recipient_id, area_id) VALUES (?, 'desa1')`);
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        insert.run(`r-${i}`, `+62813${String(10_000_000 + i)}`);
        area.run(`r-${i}`);
      }
    })();
    const n = new Notifier(outbox, [{ id: 'sms', kind: 'http-gateway' }], 'BPBD Sumedang');
    const started = performance.now();
    const written = db.transaction(() => n.enqueue(change('opened', 'Awas'), CTX, 1, new Date()))();
    const ms = performance.now() - started;
    expect(written).toBe(10_002);
    expect(ms).toBeLessThan(3000);
  });
});
