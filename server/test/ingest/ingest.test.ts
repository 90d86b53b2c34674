/**
 * Ingest end to end: a real gateway client publishes over MQTT to the real server (aedes,
 * SQLite in a temp folder, HTTP); the alert engine is a recording fake so the test sees
 * exactly what ingest hands over.
 */
import { MAX_PAYLOAD_BYTES, ackSchema, topics, type Ack } from '@kentongan/firmware-protocol';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/passwords.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { GW_A, PASSWORD_A, batch, silentLogger, tempDir, testConfig, wl } from '../helpers/fixtures.ts';
import { collect, connect, endAllClients, eventually, gatewayClient, settle, waitFor } from '../helpers/mqtt.ts';
import { RecordingEngine } from '../helpers/recording-engine.ts';

let hashA: string;
let hashB: string;
beforeAll(async () => {
  [hashA, hashB] = await Promise.all([hashPassword(PASSWORD_A), hashPassword('b-password')]);
});

describe('ingest over MQTT', () => {
  let server: RunningServer;
  let engine: RecordingEngine;
  let cleanup: () => Promise<void>;
  let gw: MqttClient;
  let acks: { messages: { topic: string; payload: Buffer }[] };

  beforeEach(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    server = await startServer(testConfig({ dataDir: tmp.dir, hashA, hashB }), {
      logger: silentLogger,
      createEngine: (deps) => (engine = new RecordingEngine(deps.db)),
    });
    gw = await gatewayClient(server.mqttUrl, GW_A, PASSWORD_A);
    acks = collect(gw);
    await gw.subscribeAsync(topics.ack(GW_A), { qos: 1 });
  });
  afterEach(async () => {
    await endAllClients();
    await server.stop();
    await cleanup();
  });

  const send = (payload: unknown) =>
    gw.publishAsync(topics.readings(GW_A), typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });

  /** Waits for the ack of `batchId` and checks it against the ack schema. */
  const ackOf = async (batchId: string): Promise<Ack> => {
    const found = await waitFor(
      () => acks.messages.map((m) => ackSchema.parse(JSON.parse(m.payload.toString()))).find((a) => a.batchId === batchId),
      3000,
      `ack ${batchId}`,
    );
    return found;
  };
  const api = async (path: string) => (await fetch(`${server.httpUrl}/api/v1${path}`)).json() as Promise<any>;

  it('stores a valid batch, acks it on the gateway ack topic, then hands it to the engine sorted by ts', async () => {
    await send(batch(GW_A, 'b-1', [wl(3, 30), wl(1, 10), wl(2, 20)]));
    const ack = await ackOf('b-1');
    expect(ack).toEqual({ v: 1, batchId: 'b-1', stored: 3, duplicates: 0, rejected: [], serverTime: expect.any(String) });
    expect(acks.messages[0]!.topic).toBe(topics.ack(GW_A));
    await waitFor(() => engine.calls.length === 1, 2000, 'engine call');
    expect(engine.calls[0]!.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(engine.calls[0]![0]).toMatchObject({ gatewayId: GW_A, sensorId: 'wl-1', value: 10, quality: 'good' });
    // The engine ran after the commit: a separate read already sees all three rows.
    expect(engine.rowsAtCall).toEqual([3]);
    expect(server.stats()).toMatchObject({ readingsStored: 3, duplicates: 0, readingsRejected: 0, batchesAcked: 1 });
    expect((await api('/health')).db.readings).toBe(3);
  });

  it('acks a redelivered batch as duplicates, stores nothing twice, does not re-run detection', async () => {
    const b = batch(GW_A, 'b-dup', [wl(1, 10), wl(2, 20)]);
    await send(b);
    await ackOf('b-dup');
    acks.messages.length = 0;
    await send(b);
    expect(await ackOf('b-dup')).toEqual({ v: 1, batchId: 'b-dup', stored: 0, duplicates: 2, rejected: [], serverTime: expect.any(String) });
    await settle(100);
    expect(engine.calls).toHaveLength(1);
    expect((await api('/health')).db.readings).toBe(2);
    expect(server.stats()).toMatchObject({ readingsStored: 2, duplicates: 2, batchesAcked: 2 });
  });

  it('stores the good readings of a mixed batch and rejects the bad indexes', async () => {
    await send(
      batch(GW_A, 'b-mixed', [wl(1, 10), { ...wl(2, 20), value: 'NaN' }, wl(3, 30), { ...wl(4, 40), unit: 'mm' }, { junk: true }]),
    );
    const ack = await ackOf('b-mixed');
    expect(ack.stored).toBe(2);
    expect(ack.rejected.map((r) => r.index)).toEqual([1, 3, 4]);
    await waitFor(() => engine.calls.length === 1, 2000, 'engine call');
    expect(engine.calls[0]!.map((r) => r.seq)).toEqual([1, 3]);
    expect(server.stats().readingsRejected).toBe(3);
  });

  it('survives garbage, counts it, answers what can be answered, and the next good batch still works', async () => {
    await send('not json at all {');
    await send('{'.repeat(MAX_PAYLOAD_BYTES + 1)); // one byte over the payload limit, under the broker's frame limit
    await send({ ...batch(GW_A, 'b-v2', [wl(1, 1)]), v: 2 });
    await send(batch('gw-b', 'b-mismatch', [wl(1, 1), wl(2, 2)]));
    await send({ ...batch(GW_A, 'b-extra', [wl(1, 1)]), extra: 'field' });
    await send({ v: 1, gatewayId: GW_A, batchId: 'b-noreadings', sentAt: '2025-01-09T08:00:00.000Z', readings: 'NaN' });
    await send('{"v":1,"gatewayId":"gw-a","batchId":"b-nan","sentAt":"2025-01-09T08:00:00.000Z","readings":[{"value":NaN}]}');
    await send('');

    expect(await ackOf('b-mismatch')).toMatchObject({ stored: 0, duplicates: 0, rejected: [{ index: 0 }, { index: 1 }] });
    expect((await ackOf('b-mismatch')).rejected[0]!.reason).toContain('does not match');
    expect(await ackOf('b-extra')).toMatchObject({ stored: 0, rejected: [{ index: 0 }] });
    expect(await ackOf('b-noreadings')).toMatchObject({ stored: 0, rejected: [] });

    await send(batch(GW_A, 'b-good', [wl(7, 70)]));
    expect(await ackOf('b-good')).toMatchObject({ stored: 1, rejected: [] });
    // Nothing else was answered: not the version-2 batch, not unparseable JSON.
    const answered = acks.messages.map((m) => JSON.parse(m.payload.toString()).batchId).sort();
    expect(answered).toEqual(['b-extra', 'b-good', 'b-mismatch', 'b-noreadings']);

    await eventually(async () => {
      const m = await api('/metrics?format=json');
      const rejected = Object.fromEntries(
        (m.kentongan_ingest_rejected_total as { labels: { reason: string }; value: number }[]).map((s) => [s.labels.reason, s.value]),
      );
      expect(rejected).toMatchObject({
        invalid_json: 3, // not JSON, NaN literal, empty
        too_large: 1,
        unsupported_version: 1,
        gateway_mismatch: 1,
        invalid_envelope: 2, // extra field, readings not an array
      });
      expect(m.kentongan_batches_received_total).toBe(9);
    });
    expect(server.stats()).toMatchObject({ readingsStored: 1 });
    expect(engine.calls).toHaveLength(1);
    expect(gw.connected).toBe(true);
  });

  it('keeps ingesting when the alert engine throws', async () => {
    engine.throwOnReadings = new Error('engine bug');
    await send(batch(GW_A, 'b-e1', [wl(1, 10)]));
    expect(await ackOf('b-e1')).toMatchObject({ stored: 1 });
    engine.throwOnReadings = null;
    await send(batch(GW_A, 'b-e2', [wl(2, 20)]));
    expect(await ackOf('b-e2')).toMatchObject({ stored: 1 });
    await waitFor(() => engine.calls.length === 2, 2000, 'second engine call');
    expect((await api('/metrics?format=json')).kentongan_alert_engine_errors_total).toBe(1);
  });

  it('stores readings of sensors missing from config, and lists them', async () => {
    await send(batch(GW_A, 'b-unreg', [wl(1, 10, { sensorId: 'wl-unlisted' })]));
    expect(await ackOf('b-unreg')).toMatchObject({ stored: 1 });
    expect((await api('/sites')).unregisteredSensors).toEqual(['wl-unlisted']);
    expect((await api('/metrics?format=json')).kentongan_readings_unregistered_sensor_total).toBe(1);
  });

  it('records birth status, health and the will; refuses invalid ones', async () => {
    await gw.publishAsync(
      topics.status(GW_A),
      JSON.stringify({ v: 1, gatewayId: GW_A, state: 'online', ts: '2025-01-09T08:00:00.000Z', software: 'gw 0.1' }),
      { qos: 1, retain: true },
    );
    const health = {
      v: 1,
      gatewayId: GW_A,
      ts: '2025-01-09T08:01:00.000Z',
      uptimeS: 60,
      queueDepth: 4,
      oldestQueuedAgeS: 2.5,
      rejectedFrames: { bad_crc: 1 },
      sensors: [{ sensorId: 'wl-1', lastSeen: '2025-01-09T08:00:59.000Z', batteryV: 12.6, gaps: 0 }],
    };
    await gw.publishAsync(topics.health(GW_A), JSON.stringify(health), { qos: 0 });
    await gw.publishAsync(topics.health(GW_A), JSON.stringify({ ...health, queueDepth: -1 }), { qos: 0 });
    await gw.publishAsync(topics.status(GW_A), JSON.stringify({ v: 1, gatewayId: 'gw-b', state: 'online', ts: health.ts }), {
      qos: 1,
    });
    const gatewayOf = async () =>
      ((await api('/gateways')).gateways as { id: string; lastHealth: unknown; lastStatus: unknown; state: string }[]).find(
        (x) => x.id === GW_A,
      )!;
    const a = await eventually(async () => {
      const g = await gatewayOf();
      expect(g.state).toBe('online');
      expect(g.lastStatus).toMatchObject({ state: 'online', software: 'gw 0.1' });
      expect(g.lastHealth).toMatchObject({ queueDepth: 4, tsLocal: '2025-01-09T15:01:00.000+07:00' });
      return g;
    });
    expect(a.id).toBe(GW_A);
    await eventually(async () => {
      const m = await api('/metrics?format=json');
      expect(m.kentongan_gateway_health_messages_total).toBe(1);
      const rejected = Object.fromEntries(
        (m.kentongan_ingest_rejected_total as { labels: { reason: string }; value: number }[]).map((s) => [s.labels.reason, s.value]),
      );
      expect(rejected).toMatchObject({ invalid_health: 1, gateway_mismatch: 1 });
    });

    // A gateway that vanishes without DISCONNECT: the broker publishes its will (offline).
    await endAllClients();
    const willPayload = JSON.stringify({ v: 1, gatewayId: GW_A, state: 'offline', ts: '2025-01-09T08:05:00.000Z' });
    const dying = await connect(server.mqttUrl, {
      clientId: GW_A,
      username: GW_A,
      password: PASSWORD_A,
      will: { topic: topics.status(GW_A), payload: Buffer.from(willPayload), qos: 1, retain: true },
    });
    dying.stream.destroy();
    await eventually(async () => {
      expect(await gatewayOf()).toMatchObject({ state: 'offline', lastStatus: { state: 'offline' } });
    });
  });
});
