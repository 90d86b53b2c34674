/**
 * What ingest refuses to trust: readings of a sensor bound to another gateway (refused, counted),
 * and readings stamped far in the future (stored, but kept from detection so one wrong clock
 * cannot switch a rule off).
 */
import { ackSchema, topics, type Ack } from '@kentongan/firmware-protocol';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/passwords.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { GW_A, GW_B, PASSWORD_A, batch, silentLogger, tempDir, testConfig, wl } from '../helpers/fixtures.ts';
import { collect, endAllClients, gatewayClient, waitFor } from '../helpers/mqtt.ts';
import { RecordingEngine } from '../helpers/recording-engine.ts';

let hashA: string;
let hashB: string;
beforeAll(async () => {
  [hashA, hashB] = await Promise.all([hashPassword(PASSWORD_A), hashPassword('b-password')]);
});

describe('ingest trust rules', () => {
  let server: RunningServer;
  let engine: RecordingEngine;
  let cleanup: () => Promise<void>;

  async function start(bindWl1To?: string) {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const base = testConfig({ dataDir: tmp.dir, hashA, hashB });
    const config = { ...base, sensors: base.sensors.map((s) => (s.id === 'wl-1' && bindWl1To ? { ...s, gatewayId: bindWl1To } : s)) };
    server = await startServer(config, { logger: silentLogger, createEngine: (deps) => (engine = new RecordingEngine(deps.db)) });
    const gw: MqttClient = await gatewayClient(server.mqttUrl, GW_A, PASSWORD_A);
    const acks = collect(gw);
    await gw.subscribeAsync(topics.ack(GW_A), { qos: 1 });
    const ackOf = (batchId: string): Promise<Ack> =>
      waitFor(
        () => acks.messages.map((m) => ackSchema.parse(JSON.parse(m.payload.toString()))).find((a) => a.batchId === batchId),
        3000,
        `ack ${batchId}`,
      );
    const send = (payload: unknown) => gw.publishAsync(topics.readings(GW_A), JSON.stringify(payload), { qos: 1 });
    return { send, ackOf };
  }
  const metrics = async () => (await fetch(`${server.httpUrl}/api/v1/metrics`)).text();

  afterEach(async () => {
    await endAllClients();
    await server.stop();
    await cleanup();
  });

  it("refuses readings of a sensor bound to another gateway, and keeps the rest of the batch", async () => {
    const { send, ackOf } = await start(GW_B);
    await send(batch(GW_A, 'b-foreign', [wl(1, 10), { ...wl(2, 20), sensorId: 'rg-1', quantity: 'rain', unit: 'mm' }]));
    const ack = await ackOf('b-foreign');
    expect(ack.stored).toBe(1);
    expect(ack.rejected).toEqual([{ index: 0, reason: `sensor wl-1 belongs to gateway ${GW_B} / sensor ini milik gateway ${GW_B}` }]);
    await waitFor(() => engine.calls.length === 1, 2000, 'engine call');
    expect(engine.calls.flat().map((r) => r.sensorId)).toEqual(['rg-1']);
    expect(await metrics()).toMatch(/^kentongan_readings_wrong_gateway_total 1$/m);
  });

  it('accepts the bound gateway itself', async () => {
    const { send, ackOf } = await start(GW_A);
    await send(batch(GW_A, 'b-own', [wl(1, 10)]));
    expect((await ackOf('b-own')).stored).toBe(1);
    expect(await metrics()).toMatch(/^kentongan_readings_wrong_gateway_total 0$/m);
  });

  it('stores a reading stamped years ahead but keeps it from detection; later readings still reach it', async () => {
    const { send, ackOf } = await start();
    const future = wl(5, 99, { ts: '2036-01-01T00:00:00.000Z' });
    await send(batch(GW_A, 'b-future', [wl(1, 10), future]));
    expect((await ackOf('b-future')).stored).toBe(2);
    await waitFor(() => engine.calls.length === 1, 2000, 'engine call');
    expect(engine.calls[0]!.map((r) => r.seq)).toEqual([1]);
    await send(batch(GW_A, 'b-next', [wl(2, 20)]));
    await waitFor(() => engine.calls.length === 2, 2000, 'second engine call');
    expect(engine.calls[1]!.map((r) => r.seq)).toEqual([2]);
    expect(server.stats().readingsStored).toBe(3);
    expect(await metrics()).toMatch(/^kentongan_readings_future_not_evaluated_total 1$/m);
  });
});
