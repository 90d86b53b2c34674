/**
 * The whole server core with the real alert engine: gateway publishes over MQTT, readings are
 * stored, an alert opens, the area level goes out retained on MQTT, an operator acknowledges
 * and resolves it over real HTTP, and the data survive a restart on the same folder.
 */
import { areaAlertSchema, ackSchema, topics } from '@kentongan/firmware-protocol';
import { createConnection } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/broker/passwords.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { GW_A, GW_B, PASSWORD_A, PASSWORD_B, batch, silentLogger, tempDir, testConfig, wl } from './helpers/fixtures.ts';
import { collect, endAllClients, eventually, gatewayClient, waitFor } from './helpers/mqtt.ts';
import { RecordingEngine } from './helpers/recording-engine.ts';

let hashA: string;
let hashB: string;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  [hashA, hashB] = await Promise.all([hashPassword(PASSWORD_A), hashPassword(PASSWORD_B)]);
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await cleanup();
});

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('startServer with the real alert engine', () => {
  let server: RunningServer | null = null;
  afterEach(async () => {
    await endAllClients();
    await server?.stop();
    server = null;
  });

  const post = (path: string, body: unknown) =>
    fetch(`${server!.httpUrl}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('runs readings -> ack -> alert -> retained area level -> operator actions', async () => {
    server = await startServer(testConfig({ dataDir: dir, hashA, hashB }), { logger: silentLogger });
    expect(server.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.mqttUrl).toBe(`mqtt://127.0.0.1:${server.mqttPort}`);
    expect(server.httpPort).toBeGreaterThan(0);

    const siren = await gatewayClient(server.mqttUrl, GW_B, PASSWORD_B);
    const levels = collect(siren);
    await siren.subscribeAsync('kentongan/v1/alerts/#', { qos: 1 });

    const gw = await gatewayClient(server.mqttUrl, GW_A, PASSWORD_A);
    const acks = collect(gw);
    await gw.subscribeAsync(topics.ack(GW_A), { qos: 1 });
    // 50 cm, then 65 and 70: two consecutive readings above Waspada (60) confirm it.
    await gw.publishAsync(topics.readings(GW_A), JSON.stringify(batch(GW_A, 'b-1', [wl(1, 50), wl(2, 65), wl(3, 70)])), { qos: 1 });
    await waitFor(() => acks.messages.length === 1, 3000, 'ack');
    expect(ackSchema.parse(JSON.parse(acks.messages[0]!.payload.toString()))).toMatchObject({ stored: 3 });

    const alerts = await waitFor(() => {
      const list = server!.engine.listAlerts({ state: 'active' });
      return list.length > 0 ? list : undefined;
    }, 3000, 'alert');
    expect(alerts[0]).toMatchObject({ areaId: 'jatinangor', sensorId: 'wl-1', level: 'Waspada', state: 'open' });
    const alertId = alerts[0]!.id;

    const level = await waitFor(
      () =>
        levels.messages
          .map((m) => areaAlertSchema.parse(JSON.parse(m.payload.toString())))
          .find((m) => m.level === 'Waspada'),
      3000,
      'Waspada on the alerts topic',
    );
    expect(level).toMatchObject({ areaId: 'jatinangor', alertId });
    expect(levels.messages.every((m) => m.topic === topics.alert('jatinangor'))).toBe(true);

    const areas = await (await fetch(`${server.httpUrl}/api/v1/areas`)).json();
    expect(areas.areas).toEqual([{ id: 'jatinangor', name: 'Kecamatan Jatinangor', level: 'Waspada', activeAlerts: 1 }]);

    const ack = await post(`/alerts/${alertId}/acknowledge`, { by: 'Operator Pusdalops', note: 'dipantau' });
    expect(ack.status).toBe(200);
    expect((await ack.json()).alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'Operator Pusdalops' });
    const detail = await (await fetch(`${server.httpUrl}/api/v1/alerts/${alertId}`)).json();
    expect(detail.events.map((e: { change: string }) => e.change)).toEqual(['opened', 'acknowledged']);
    const resolved = await post(`/alerts/${alertId}/resolve`, { by: 'Operator Pusdalops' });
    expect(resolved.status).toBe(200);
    const again = await post(`/alerts/${alertId}/resolve`, { by: 'Operator Pusdalops' });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('ALERT_ALREADY_RESOLVED');
    const missing = await post('/alerts/tidak-ada/acknowledge', { by: 'Operator' });
    expect(missing.status).toBe(404);

    // A late subscriber gets the current level retained.
    const late = await gatewayClient(server.mqttUrl, GW_B, PASSWORD_B);
    const lateSeen = collect(late);
    await late.subscribeAsync(topics.alert('jatinangor'), { qos: 1 });
    await waitFor(() => lateSeen.messages.length > 0, 3000, 'retained level');
    expect(lateSeen.messages[0]!.retain).toBe(true);
    expect(areaAlertSchema.parse(JSON.parse(lateSeen.messages[0]!.payload.toString())).level).toBe('Normal');

    expect(server.stats()).toMatchObject({
      readingsStored: 3,
      duplicates: 0,
      readingsRejected: 0,
      batchesAcked: 1,
      authFailures: 0,
      publishDenied: 0,
      alertsRaised: 1,
      maxLevel: 'Waspada',
      notificationsPending: 0,
    });

    const { httpPort, mqttPort } = server;
    await server.stop();
    await server.stop(); // idempotent
    server = null;
    expect(await portOpen(httpPort)).toBe(false);
    expect(await portOpen(mqttPort)).toBe(false);
  });

  it('keeps stored readings across a restart on the same data folder: a resend is all duplicates', async () => {
    server = await startServer(testConfig({ dataDir: dir, hashA, hashB }), { logger: silentLogger });
    const gw = await gatewayClient(server.mqttUrl, GW_A, PASSWORD_A);
    const acks = collect(gw);
    await gw.subscribeAsync(topics.ack(GW_A), { qos: 1 });
    await gw.publishAsync(topics.readings(GW_A), JSON.stringify(batch(GW_A, 'b-1', [wl(1, 50), wl(2, 65), wl(3, 70)])), { qos: 1 });
    await waitFor(() => acks.messages.length === 1, 3000, 'ack');
    expect(JSON.parse(acks.messages[0]!.payload.toString())).toMatchObject({ stored: 0, duplicates: 3 });
    await eventually(async () => {
      const health = await (await fetch(`${server!.httpUrl}/api/v1/health`)).json();
      expect(health.db).toEqual({ ok: true, readings: 3 });
    });
    // The resolved alert from the first run is still there, and not re-fired.
    expect(server.engine.listAlerts({ state: 'resolved' })).toHaveLength(1);
    expect(server.engine.listAlerts({ state: 'active' })).toHaveLength(0);
  });

  it('stops inputs before the engine: when the engine stops, MQTT and HTTP are already closed', async () => {
    const seen: { mqttOpen: boolean; httpOpen: boolean }[] = [];
    let ports = { mqtt: 0, http: 0 };
    class StopProbe extends RecordingEngine {
      override async stop(): Promise<void> {
        seen.push({ mqttOpen: await portOpen(ports.mqtt), httpOpen: await portOpen(ports.http) });
        await super.stop();
      }
    }
    const s = await startServer(testConfig({ dataDir: dir, hashA, hashB }), {
      logger: silentLogger,
      createEngine: () => new StopProbe(),
    });
    ports = { mqtt: s.mqttPort, http: s.httpPort };
    expect(await portOpen(ports.mqtt)).toBe(true);
    await s.stop();
    expect(seen).toEqual([{ mqttOpen: false, httpOpen: false }]);
  });

  it('fails to start with a clear error when the MQTT port is taken, leaving nothing open', async () => {
    const first = await startServer(testConfig({ dataDir: dir, hashA, hashB }), { logger: silentLogger });
    try {
      const clash = testConfig({ dataDir: dir, hashA, hashB, mqtt: { host: '127.0.0.1', port: first.mqttPort } });
      await expect(startServer(clash, { logger: silentLogger })).rejects.toMatchObject({ code: 'MQTT_LISTEN_FAILED' });
    } finally {
      await first.stop();
    }
  });
});
