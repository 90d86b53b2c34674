/**
 * Chaos, at process level (issue 4, item 5): an open Awas alert survives a SIGKILL of the server.
 * The server (`server/src/main.ts run`) is a child process; readings arrive through the real
 * ingest path (MQTT as an authenticated gateway); the webhook receiver runs in this process and
 * counts what was sent. After kill -9 and a restart on the same data folder the alert is still
 * open at Awas, the area is still Awas, and the webhook never hears the warning a second time,
 * not even when more Awas-level readings arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, topics } from '@kentongan/firmware-protocol';
import { hashPassword } from '@kentongan/server';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T0 = Date.now() - 10 * 60_000;

describe('open Awas alert across a SIGKILL of the server', () => {
  let dir: string;
  let httpUrl: string;
  let mqttUrl: string;
  let configFile: string;
  let password: string;
  const children: ChildProcess[] = [];
  const hooks: { key: string; change: string; to: string }[] = [];
  let receiver: ReturnType<typeof createHttpServer>;
  let seq = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kentongan-alert-kill-'));
    receiver = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { change: string; to: string };
        hooks.push({ key: String(req.headers['idempotency-key']), change: body.change, to: body.to });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hookPort = (receiver.address() as AddressInfo).port;
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    httpUrl = `http://127.0.0.1:${httpPort}`;
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    password = randomBytes(12).toString('hex');
    configFile = join(dir, 'server.json');
    await writeFile(
      configFile,
      JSON.stringify({
        dataDir: join(dir, 'data'),
        http: { port: httpPort },
        mqtt: { port: mqttPort },
        gateways: [{ id: 'gw-kill', passwordHash: await hashPassword(password) }],
        areas: [{ id: 'jatinangor', name: 'Kecamatan Jatinangor' }],
        sites: [{ id: 'pos-cikeruh', name: 'Pos Duga Air Cikeruh', areaId: 'jatinangor', lat: -6.93, lon: 107.77 }],
        sensors: [{ id: 'wl-01', siteId: 'pos-cikeruh', type: 'water_level', gatewayId: 'gw-kill' }],
        rules: [
          {
            id: 'cikeruh-wl',
            kind: 'threshold',
            hazard: 'flood',
            sensorId: 'wl-01',
            quantity: 'water_level',
            levels: { Waspada: { raise: 60, clear: 55 }, Siaga: { raise: 160, clear: 150 }, Awas: { raise: 210, clear: 200 } },
            confirmReadings: 2,
            clearReadings: 3,
          },
        ],
        notify: { channels: [{ kind: 'webhook', id: 'hook', url: `http://127.0.0.1:${hookPort}/hook`, timeoutMs: 2000, maxAttempts: 3 }] },
      }),
    );
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await new Promise<void>((r) => receiver.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  function startServer(): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'run', '--config', configFile, '--log-level', 'warn'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    children.push(child);
    return child;
  }

  async function api<T>(path: string): Promise<T | null> {
    try {
      const res = await fetch(`${httpUrl}/api/v1${path}`);
      return res.ok ? ((await res.json()) as T) : null;
    } catch {
      return null;
    }
  }

  /** Publishes one batch as the gateway and resolves once the server's ack arrives (stored). */
  async function publish(values: number[]): Promise<void> {
    const client = await mqtt.connectAsync(mqttUrl, { clientId: 'gw-kill', username: 'gw-kill', password, protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await client.subscribeAsync(topics.ack('gw-kill'), { qos: 1 });
      const batchId = `b-${seq}`;
      const acked = new Promise<void>((resolve) => client.on('message', (_t, p) => JSON.parse(p.toString()).batchId === batchId && resolve()));
      const readings = values.map((value) => {
        seq++;
        return { sensorId: 'wl-01', epoch: 1, seq, quantity: 'water_level', value, unit: 'cm', ts: new Date(T0 + seq * 60_000).toISOString(), quality: 'good' };
      });
      await client.publishAsync(topics.readings('gw-kill'), JSON.stringify({ v: PROTOCOL_VERSION, gatewayId: 'gw-kill', batchId, sentAt: new Date().toISOString(), readings }), { qos: 1 });
      await acked;
    } finally {
      await client.endAsync();
    }
  }

  it('is still open after restart, and the warning is not sent again', async () => {
    let server = startServer();
    await until(async () => (await api('/health')) !== null, 30_000);
    await publish([230, 235]);
    await until(async () => hooks.length >= 1, 15_000);
    const alerts = (await api<{ alerts: { id: string; level: string; state: string }[] }>('/alerts?state=active'))!.alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ level: 'Awas', state: 'open' });
    expect(hooks.map((h) => `${h.change}:${h.to}`)).toEqual(['opened:Awas']);

    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    expect(server.signalCode).toBe('SIGKILL');

    server = startServer();
    await until(async () => (await api('/health')) !== null, 30_000);
    const after = (await api<{ alerts: { id: string; level: string; state: string }[] }>('/alerts?state=active'))!.alerts;
    expect(after).toEqual([expect.objectContaining({ id: alerts[0]!.id, level: 'Awas', state: 'open' })]);
    const areas = (await api<{ areas: { id: string; level: string }[] }>('/areas'))!.areas;
    expect(areas).toEqual([expect.objectContaining({ id: 'jatinangor', level: 'Awas' })]);

    // More Awas-level readings after the restart: the same episode, nothing new to send.
    await publish([240, 238]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(hooks.map((h) => `${h.change}:${h.to}`)).toEqual(['opened:Awas']);
    expect((await api<{ alerts: unknown[] }>('/alerts'))!.alerts).toHaveLength(1);

    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }, 90_000);
});

async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
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
