/**
 * Chaos at process level during a fan-out: the server (`server/src/main.ts run`, a real child
 * process) opens an Awas alert for 400 recipients from its config and starts sending through the
 * HTTP SMS gateway channel to a receiver on 127.0.0.1 (its own process, slowed to 15 ms per
 * request so the kill lands mid-fan-out). The server is killed with SIGKILL once ~100 messages
 * arrived, then restarted on the same data folder.
 *
 * Promise: every recipient gets the message exactly once per Idempotency-Key, or is reported
 * failed; nobody is skipped. Honest count: a message in flight at the kill (sent, but its `sent`
 * mark not yet committed) goes out again after the restart with the SAME Idempotency-Key (the
 * outbox dedupe key), so a gateway that honours the key delivers it once; the raw number of POSTs
 * may exceed 400 by at most the in-flight window (channel concurrency + one status batch), and
 * the test reports and bounds that number.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { topics } from '@kentongan/firmware-protocol';
import { hashPassword } from '../../server/src/broker/passwords.ts';
import { startSmsReceiverProcess, type SmsReceiver } from '../src/bench/sms-receiver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECIPIENTS = 400;
const CONCURRENCY = 4;
/** Status writes are batched per 64 outcomes (server/src/notify/dispatcher.ts FLUSH_EVERY). */
const FLUSH_EVERY = 64;

/** The HTTP SMS gateway channel (default JSON body `{"to":"{to}","text":"{text}","id":"{id}"}`, Idempotency-Key header). */
function smsChannel(url: string) {
  return { kind: 'http-gateway', id: 'sms', url, maxAttempts: 8, timeoutMs: 5000 };
}

const phone = (i: number) => `+62813${String(20_000_000 + i)}`;


describe('server killed with SIGKILL in the middle of a fan-out', () => {
  let dir: string;
  let rx: SmsReceiver;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('after the restart every recipient has the message exactly once per key; nobody is skipped', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kentongan-fanout-kill-'));
    rx = await startSmsReceiverProcess(15);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const password = randomBytes(12).toString('hex');
    const config = {
      dataDir: join(dir, 'server'),
      http: { host: '127.0.0.1', port: httpPort },
      mqtt: { host: '127.0.0.1', port: mqttPort },
      gateways: [{ id: 'gw-1', passwordHash: await hashPassword(password) }],
      areas: [{ id: 'cihanjuang', name: 'Desa Cihanjuang', kind: 'desa' }],
      sites: [{ id: 'lereng', name: 'Lereng Bojongkondang', areaId: 'cihanjuang', lat: -6.95, lon: 107.82 }],
      sensors: [{ id: 'ext-01', siteId: 'lereng', type: 'extensometer', gatewayId: 'gw-1' }],
      rules: [
        {
          id: 'ext-lereng',
          kind: 'threshold',
          hazard: 'landslide',
          sensorId: 'ext-01',
          quantity: 'displacement',
          levels: { Waspada: { raise: 50, clear: 45 }, Siaga: { raise: 100, clear: 95 }, Awas: { raise: 200, clear: 190 } },
          confirmReadings: 1,
        },
      ],
      notify: {
        channels: [smsChannel(rx.url)],
        delivery: { channels: { sms: { concurrency: CONCURRENCY, rate: { burst: 1000, perSecond: 1000 } } } },
      },
      recipients: {
        staff: Array.from({ length: RECIPIENTS }, (_, i) => ({ id: `op${i}`, role: 'operator', channelId: 'sms', address: phone(i) })),
      },
    };
    const configFile = join(dir, 'server.json');
    await writeFile(configFile, JSON.stringify(config));
    const api = `http://127.0.0.1:${httpPort}/api/v1`;
    const start = () => startServerProcess(configFile, api, children);

    const first = await start();
    const gw = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'gw-1', username: 'gw-1', password, protocolVersion: 4, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => (gw.once('connect', () => resolve()), gw.once('error', reject)));
    const ts = new Date().toISOString();
    const batch = {
      v: 1,
      gatewayId: 'gw-1',
      batchId: 'b1',
      sentAt: ts,
      readings: [{ sensorId: 'ext-01', epoch: 1, seq: 1, quantity: 'displacement', value: 230, unit: 'mm', ts, quality: 'good' }],
    };
    await gw.publishAsync(topics.readings('gw-1'), JSON.stringify(batch), { qos: 1 });
    await gw.endAsync();

    await waitFor(async () => (await rx.stats()).requests >= 100, 20_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = (await rx.stats()).requests;
    expect(first.signalCode).toBe('SIGKILL');
    expect(atKill).toBeLessThan(RECIPIENTS); // the kill really interrupted the fan-out

    await start();
    const alerts = (await (await fetch(`${api}/alerts`)).json()) as { alerts: { id: string }[] };
    expect(alerts.alerts).toHaveLength(1);
    const alertId = alerts.alerts[0]!.id;
    type Deliveries = { totals: Record<string, number> };
    let d: Deliveries = { totals: {} };
    await waitFor(async () => {
      d = (await (await fetch(`${api}/alerts/${alertId}/deliveries`)).json()) as Deliveries;
      return d.totals.pending === 0;
    }, 30_000);

    const stats = await rx.stats();
    const skipped = Array.from({ length: RECIPIENTS }, (_, i) => phone(i)).filter((p) => !stats.perTo.has(p));
    const duplicatePosts = stats.requests - RECIPIENTS;
    const keys = [...stats.perKey.keys()];
    // Reported: how many rows were re-sent because the kill came between send and commit.
    console.log(`fan-out kill: ${atKill} delivered before SIGKILL, ${stats.requests} POSTs in total, ${duplicatePosts} repeated with the same Idempotency-Key`);
    expect(skipped).toEqual([]);
    expect(d.totals).toMatchObject({ sent: RECIPIENTS, failed: 0, pending: 0 });
    expect(keys).toHaveLength(RECIPIENTS); // one key per recipient: a repeat is recognisable
    expect(duplicatePosts).toBeGreaterThanOrEqual(0);
    expect(duplicatePosts).toBeLessThanOrEqual(CONCURRENCY + FLUSH_EVERY);
    for (const [key, n] of stats.perKey) if (n > 1) expect(key).toMatch(/:opened:Awas:sms:s-op\d+$/);
  }, 90_000);
});

async function startServerProcess(configFile: string, api: string, children: ChildProcess[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'run', '--config', configFile, '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exitedEarly = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`server exited early (${code ?? signal}): ${stderr}`))),
  );
  exitedEarly.catch(() => {});
  await Promise.race([
    waitFor(async () => {
      try {
        return (await fetch(`${api}/health`)).ok;
      } catch {
        return false;
      }
    }, 20_000),
    exitedEarly,
  ]);
  return child;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
