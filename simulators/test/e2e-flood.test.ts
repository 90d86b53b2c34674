/**
 * End to end through real parts: simulated sensors -> line frames over real pseudo-terminal
 * serial ports -> gateway (durable queue) -> aedes on 127.0.0.1 -> ingest -> SQLite ->
 * threshold detection -> alert -> webhook notification received by a local HTTP server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig, startGateway, type RunningGateway } from '@kentongan/gateway';
import { hashPassword, parseServerConfig, startServer, type RunningServer } from '@kentongan/server';
import { demoGatewayConfig, demoServerConfig } from '../src/demo/deployment.ts';
import { openPtyPair, type PtyPair } from '../src/pty/pty-pair.ts';
import { ScenarioRunner } from '../src/scenarios/runner.ts';
import { builtInScenarioPath, loadScenario } from '../src/scenarios/schema.ts';
import { attachSerial, type SerialAttachment } from '../src/sensors/serial-attachment.ts';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: { change: string; alert: { level: string; areaId: string }; message: { id: string; en: string } };
}

describe('flood on the Cikeruh, end to end', () => {
  let dir: string;
  let receiver: Server;
  const deliveries: Delivery[] = [];
  let server: RunningServer;
  let gateway: RunningGateway;
  let ptys: PtyPair[] = [];
  let attachments: SerialAttachment[] = [];
  let sent = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kentongan-e2e-'));
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body: JSON.parse(raw) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const scenario = await loadScenario(builtInScenarioPath('banjir-cikeruh'));
    for (const s of scenario.sensors) ptys.push(await openPtyPair(dir, s.id));
    const password = randomBytes(12).toString('hex');
    const logger = pino({ level: 'warn' });
    server = await startServer(
      parseServerConfig(
        demoServerConfig({ dataDir: join(dir, 'server'), httpPort: 0, mqttPort: 0, gatewayPasswordHash: await hashPassword(password), webhookUrl }),
      ),
      { logger },
    );
    gateway = await startGateway(
      parseGatewayConfig(
        demoGatewayConfig({
          dataDir: join(dir, 'gateway'),
          mqttUrl: server.mqttUrl,
          password,
          scenario,
          ports: { hostPathOf: (id) => ptys[scenario.sensors.findIndex((s) => s.id === id)]!.hostPath },
        }),
      ),
      { logger },
    );
    for (const p of ptys) attachments.push(await attachSerial(p.devicePath));
    // 721 reporting intervals of one scenario minute, 8 ms apart in real time.
    const runner = new ScenarioRunner(scenario, {
      speed: 60 / 0.008,
      sinkFor: (id) => attachments[scenario.sensors.findIndex((s) => s.id === id)]!.write,
    });
    await runner.run();
    await Promise.all(attachments.map((a) => a.flush()));
    sent = runner.channelValuesSent();
    await waitFor(() => server.stats().readingsStored >= sent, 20_000);
    await gateway.drained(10_000);
    await waitFor(() => server.stats().notificationsPending === 0 && deliveries.length >= 6, 10_000);
  }, 90_000);

  afterAll(async () => {
    for (const a of attachments) await a.close();
    await gateway?.stop();
    await server?.stop();
    for (const p of ptys) await p.close();
    receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores every reading the sensors sent, exactly once', () => {
    const st = server.stats();
    expect(sent).toBe(2 * 721);
    expect(st.readingsStored).toBe(sent);
    expect(st.readingsRejected).toBe(0);
    const gw = gateway.stats();
    expect(gw.queueDepth).toBe(0);
    expect(gw.readingsAccepted).toBe(sent);
    // No frame lost on the serial line: the gateway saw every sequence number of both sensors.
    expect(gw.gaps).toEqual({ 'ckr-wl-01': 0, 'ckr-rg-01': 0 });
  });

  it('raises Waspada, Siaga, Awas in order, steps down one level at a time, and gives the all-clear', () => {
    const sequence = deliveries.map((d) => `${d.body.change}:${d.body.alert.level}`);
    expect(sequence).toEqual([
      'opened:Waspada',
      'escalated:Siaga',
      'escalated:Awas',
      'deescalated:Siaga',
      'deescalated:Waspada',
      'resolved:Normal',
    ]);
    expect(server.stats().maxLevel).toBe('Awas');
    expect(server.stats().alertsRaised).toBe(1);
  });

  it('delivers each notification once, in Bahasa Indonesia and English, for the right area', () => {
    const keys = deliveries.map((d) => d.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(deliveries.length);
    for (const d of deliveries) {
      expect(d.body.alert.areaId).toBe('jatinangor');
      expect(d.body.message.id).toMatch(/WIB/);
      expect(d.body.message.en.length).toBeGreaterThan(10);
    }
    expect(deliveries[2]!.body.message.id).toMatch(/AWAS/i);
  });

  it('shows the area back at Normal on the HTTP API', async () => {
    const res = await fetch(`${server.httpUrl}/api/v1/areas`);
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toMatch(/jatinangor.*Normal/);
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
