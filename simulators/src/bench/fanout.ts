/**
 * Fan-out benchmark: one Awas alert to N (default 10,000) confirmed SMS subscribers through the
 * notification path: notifier (one outbox row per recipient, written in one transaction on the
 * real SQLite file with synchronous = FULL) -> dispatcher (bounded concurrency, token buckets,
 * batched status writes) -> HTTP SMS gateway channel -> a local receiver on 127.0.0.1 that counts
 * per phone number. Measured: seconds from the alert change to the last delivery. `lost`: numbers
 * that never received the message. Baseline, same run, same machine: the same number of raw HTTP
 * POSTs to the same receiver with the same concurrency, no database, no outbox.
 *
 * Channel: the real HTTP SMS gateway channel (`server/src/notify/channels/http-gateway-channel.ts`,
 * default body template `{"to":"{to}","text":"{text}","id":"{id}"}`, `Idempotency-Key` header,
 * keep-alive agent). `--channel stand-in` uses `benchSmsChannel` below instead (a minimal channel,
 * for comparing the channel's own cost).
 */
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { AlertChange } from '@kentongan/server';
import { serverConfigSchema } from '../../../server/src/config/schema.ts';
import { openDatabase } from '../../../server/src/storage/database.ts';
// Internal modules of the server package (not in its public index): the bench measures them directly.
import { NotifyError, type NotificationChannel } from '../../../server/src/notify/channel.ts';
import { createHttpGatewayChannel } from '../../../server/src/notify/channels/http-gateway-channel.ts';
import { Dispatcher } from '../../../server/src/notify/dispatcher.ts';
import { Notifier } from '../../../server/src/notify/notifier.ts';
import { Outbox } from '../../../server/src/notify/outbox.ts';
import { RecipientStore } from '../../../server/src/recipients/store.ts';
import { printTable, round, type BenchResult } from './report.ts';
import { startSmsReceiverProcess } from './sms-receiver.ts';

interface FanoutOptions {
  recipients: number;
  concurrency: number;
  channel: 'http-gateway' | 'stand-in';
}
const DEFAULTS: FanoutOptions = { recipients: 10_000, concurrency: 64, channel: 'http-gateway' };

function parseArgs(args: string[]): FanoutOptions {
  const o = { ...DEFAULTS };
  for (let i = 0; i < args.length; i += 2) {
    const v = Number(args[i + 1]);
    if (args[i] === '--channel' && (args[i + 1] === 'http-gateway' || args[i + 1] === 'stand-in')) o.channel = args[i + 1] as FanoutOptions['channel'];
    else if (args[i] === '--recipients' && Number.isInteger(v) && v > 0) o.recipients = v;
    else if (args[i] === '--concurrency' && Number.isInteger(v) && v > 0) o.concurrency = v;
    else throw new Error(`fanout: unknown or bad option ${args[i]} ${args[i + 1] ?? ''} (known: --recipients N, --concurrency N, --channel http-gateway|stand-in)`);
  }
  return o;
}

/** A minimal HTTP SMS gateway channel (stand-in until helper F's lands). */
export function benchSmsChannel(id: string, url: string, agent = new Agent({ keepAlive: true, maxSockets: 256 })): NotificationChannel {
  return {
    id,
    // Not yet in the config schema's channel kinds (helper F adds `http-gateway`).
    kind: 'http-gateway' as NotificationChannel['kind'],
    maxAttempts: 5,
    async send(m) {
      if (!m.recipient) throw new NotifyError('WEBHOOK_HTTP_STATUS', 'no recipient');
      let status: number;
      try {
        status = await postJson(agent, url, JSON.stringify({ to: m.recipient.address, text: m.recipient.text }), { 'idempotency-key': m.dedupeKey });
      } catch (err) {
        throw new NotifyError('WEBHOOK_NETWORK', `gateway request failed: ${(err as Error).message}`, { cause: err });
      }
      if (status < 200 || status > 299) throw new NotifyError('WEBHOOK_HTTP_STATUS', `gateway answered HTTP ${status}`);
    },
  };
}

/**
 * One POST over a keep-alive agent (node:http is several times cheaper per request than fetch
 * on this machine, which matters at thousands of messages per second). Resolves with the status.
 */
export function postJson(agent: Agent, url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function phone(i: number): string {
  return `+62813${String(10_000_000 + i)}`;
}

async function rawBaseline(url: string, n: number, concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const text = 'AWAS LONGSOR Bojongkondang, Desa Cihanjuang 28/11 15:31 WIB. SEGERA MENGUNGSI, jauhi lereng & tebing! -BPBD Sumedang';
        await postJson(agent, url, JSON.stringify({ to: phone(i), text }), { 'idempotency-key': `raw-${i}` });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return seconds;
}

export async function runFanoutBench(args: string[]): Promise<BenchResult> {
  const opts = parseArgs(args);
  const dir = await mkdtemp(join(tmpdir(), 'kentongan-fanout-'));
  const rx = await startSmsReceiverProcess();
  const db = openDatabase(dir);
  try {
    console.log(`fanout: 1 Awas alert -> ${opts.recipients} SMS subscribers, channel ${opts.channel}, concurrency ${opts.concurrency}`);
    const config = serverConfigSchema.parse({
      areas: [{ id: 'cihanjuang', name: 'Desa Cihanjuang' }],
      notify: {
        channels: [{ kind: 'http-gateway', id: 'sms', url: rx.url, maxSockets: opts.concurrency }],
        delivery: { channels: { sms: { concurrency: opts.concurrency, rate: { burst: 100_000, perSecond: 100_000 } } } },
      },
    });
    const recipients = new RecipientStore(db);
    recipients.syncFromConfig(config, new Date());
    // Confirmed subscribers, as the subscription API leaves them.
    const ins = db.prepare(
      `INSERT INTO notify_recipients (id, kind, role, channel_id, address, language, status, created_at) VALUES (?, 'resident', 'resident', 'sms', ?, 'id', 'active', ?)`,
    );
    const area = db.prepare(`INSERT INTO notify_recipient_areas (recipient_id, area_id) VALUES (?, 'cihanjuang')`);
    db.transaction(() => {
      for (let i = 0; i < opts.recipients; i++) {
        ins.run(`r-${i}`, phone(i), new Date().toISOString());
        area.run(`r-${i}`);
      }
    })();

    const baseline = await rawBaseline(rx.url, opts.recipients, opts.concurrency);
    await rx.reset();

    const outbox = new Outbox(db);
    const channelConfig = config.notify.channels[0]!;
    const logger = pino({ level: 'warn' });
    const channel =
      opts.channel === 'http-gateway' && channelConfig.kind === 'http-gateway'
        ? createHttpGatewayChannel(channelConfig, { logger })
        : benchSmsChannel('sms', rx.url);
    const notifier = new Notifier(outbox, [channel], 'BPBD Sumedang');
    const dispatcher = new Dispatcher({ outbox, channels: [channel], logger, now: () => new Date() });
    dispatcher.start();
    const at = new Date().toISOString();
    const change: AlertChange = {
      alert: {
        id: 'bench-awas-1',
        ruleId: 'ext-cihanjuang',
        hazard: 'landslide',
        areaId: 'cihanjuang',
        siteId: 'bojongkondang',
        sensorId: 'ext-01',
        level: 'Awas',
        maxLevel: 'Awas',
        state: 'open',
        evidence: { value: 212, unit: 'mm', ts: at, threshold: 200 },
        openedAt: at,
        updatedAt: at,
        acknowledgedBy: null,
        acknowledgedAt: null,
        resolvedBy: null,
        resolvedAt: null,
        note: null,
      },
      change: 'opened',
      from: null,
      to: 'Awas',
      actor: 'rule:ext-cihanjuang',
      at,
    };
    const started = performance.now();
    const written = db.transaction(() =>
      notifier.enqueue(change, { siteName: 'Bojongkondang', areaName: 'Desa Cihanjuang', quantity: 'displacement' }, 1, new Date()),
    )();
    const enqueueMs = performance.now() - started;
    dispatcher.kick();
    // Done when the outbox has nothing pending (every row sent or failed), checked every 20 ms on
    // the small partial index of pending rows (a full count would cost the run several percent).
    const deadline = Date.now() + 120_000;
    let seconds = 0;
    for (let tick = 0; Date.now() < deadline; tick++) {
      const pending = outbox.pendingCount();
      if (pending === 0) {
        seconds = (performance.now() - started) / 1000;
        break;
      }
      if (tick % 50 === 0) console.log(`  ${opts.recipients - pending} / ${opts.recipients} sent`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (seconds === 0) seconds = (performance.now() - started) / 1000;
    await dispatcher.stop();
    await (channel as { close?: () => Promise<void> }).close?.();
    const stats = await rx.stats();
    const counts = outbox.counts();
    let lost = 0;
    let duplicates = 0;
    for (let i = 0; i < opts.recipients; i++) {
      const c = stats.perTo.get(phone(i)) ?? 0;
      if (c === 0) lost++;
      else duplicates += c - 1;
    }
    printTable([
      ['recipients', opts.recipients],
      ['outbox rows written', written],
      ['enqueue (1 transaction)', `${round(enqueueMs)} ms`],
      ['all delivered after', `${round(seconds, 2)} s`],
      ['messages per second', round(opts.recipients / seconds)],
      ['baseline raw HTTP POSTs', `${round(baseline, 2)} s`],
      ['ratio (fan-out / raw)', round(seconds / baseline, 2)],
      ['lost', lost],
      ['duplicates', duplicates],
      ['outbox sent / failed / pending', `${counts.sent} / ${counts.failed} / ${counts.pending}`],
    ]);
    return {
      bench: 'fanout',
      value: round(seconds, 3),
      unit: 's',
      baseline: round(baseline, 3),
      ratio: round(seconds / baseline, 2),
      lost,
      recipients: opts.recipients,
      duplicates,
      enqueue_ms: round(enqueueMs),
      msgs_per_s: round(opts.recipients / seconds),
      concurrency: opts.concurrency,
      channel: opts.channel,
    };
  } finally {
    db.close();
    await rx.close();
    await rm(dir, { recursive: true, force: true });
  }
}
