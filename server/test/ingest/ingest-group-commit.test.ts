/**
 * Group commit end to end: real gateways (mqtt.js) publish to a real aedes broker, ingest
 * commits several batches per SQLite transaction. What must hold: every batch is acked exactly
 * once and only after its readings are committed (checked through a second connection at the
 * moment the ack arrives), a failed commit acks nothing, duplicates across the batches of one
 * commit are counted right, and detection sees every new reading once, in event-time order.
 */
import { tmpdir } from 'node:os';
import { ackSchema, areaAlertSchema, topics, type Ack, type ReadingInput } from '@kentongan/firmware-protocol';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KentonganAlertEngine } from '../../src/alerts/index.ts';
import { hashPassword } from '../../src/broker/passwords.ts';
import type { GroupCommitOptions } from '../../src/ingest/group-commit.ts';
import { GW_A, GW_B, PASSWORD_A, batch, testConfig, wl } from '../helpers/fixtures.ts';
import { collect, endAllClients, gatewayClient, settle, waitFor } from '../helpers/mqtt.ts';
import type { RecordingEngine } from '../helpers/recording-engine.ts';
import { startIngest, type IngestHarness } from './ingest-harness.ts';

const GW_C = 'gw-c';
/** Only an explicit flush() (or stop) writes: the timer is far away. */
const MANUAL: GroupCommitOptions = { maxDelayMs: 600_000, maxReadings: 100_000, maxBatches: 1000 };

let hash: string;
beforeAll(async () => {
  hash = await hashPassword(PASSWORD_A);
});

describe('ingest with group commit over MQTT', () => {
  let h: IngestHarness;
  afterEach(async () => {
    await endAllClients();
    await h.close();
  });

  const start = async (groupCommit: GroupCommitOptions, realEngine = false) => {
    const config = testConfig({
      dataDir: tmpdir(),
      hashA: hash,
      hashB: hash,
      gateways: [GW_A, GW_B, GW_C].map((id) => ({ id, passwordHash: hash })),
    });
    h = await startIngest({ config, groupCommit, realEngine });
  };
  const recording = () => h.engine as RecordingEngine;

  /** A gateway subscribed to its acks; `acks` records each ack as it arrives. */
  const gateway = async (id: string) => {
    const client = await gatewayClient(h.mqttUrl, id, PASSWORD_A);
    const box = collect(client);
    await client.subscribeAsync(topics.ack(id), { qos: 1 });
    const acks = () => box.messages.map((m) => ackSchema.parse(JSON.parse(m.payload.toString())));
    return { client, acks, box };
  };
  const publish = (client: MqttClient, gatewayId: string, batchId: string, readings: ReadingInput[]) =>
    client.publishAsync(topics.readings(gatewayId), JSON.stringify(batch(gatewayId, batchId, readings)), { qos: 1 });
  const queued = (n: number) => waitFor(() => h.ingest.pendingBatches() === n, 3000, `${n} queued batches`);

  it('commits batches of several gateways together and acks each once, only after its rows are committed', async () => {
    await start({ maxDelayMs: 200, maxReadings: 100_000, maxBatches: 1000 });
    const gateways = [GW_A, GW_B, GW_C];
    const BATCHES = 15;
    const SIZE = 20;
    const seqOf = (b: number, i: number) => b * SIZE + i + 1;
    const seen: { gatewayId: string; ack: Ack; committedAtAck: number }[] = [];
    const clients = await Promise.all(
      gateways.map(async (id) => {
        const client = await gatewayClient(h.mqttUrl, id, PASSWORD_A);
        await client.subscribeAsync(topics.ack(id), { qos: 1 });
        client.on('message', (_topic, payload) => {
          const ack = ackSchema.parse(JSON.parse(payload.toString()));
          const b = Number(ack.batchId.split('-b')[1]);
          // Read at the very moment the ack arrives, through the second connection.
          const committedAtAck = h.committedRows({ sensorId: `${id}-wl`, fromSeq: seqOf(b, 0), toSeq: seqOf(b, SIZE - 1) });
          seen.push({ gatewayId: id, ack, committedAtAck });
        });
        return { id, client };
      }),
    );
    await Promise.all(
      clients.flatMap(({ id, client }) =>
        Array.from({ length: BATCHES }, (_, b) =>
          publish(
            client,
            id,
            `${id}-b${b}`,
            Array.from({ length: SIZE }, (_, i) => wl(seqOf(b, i), 40 + i, { sensorId: `${id}-wl` })),
          ),
        ),
      ),
    );
    const total = gateways.length * BATCHES;
    await waitFor(() => seen.length >= total, 5000, 'every ack');
    await settle(100);

    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((s) => `${s.gatewayId}/${s.ack.batchId}`)).size).toBe(total);
    for (const s of seen) {
      expect(s.ack).toMatchObject({ stored: SIZE, duplicates: 0, rejected: [] });
      expect(s.committedAtAck).toBe(SIZE);
    }
    expect(h.committedRows()).toBe(total * SIZE);
    // Grouped: far fewer commits than batches.
    expect(h.ingest.counters.flushes).toBeLessThan(total / 3);
    expect(h.ingest.counters).toMatchObject({ batchesReceived: total, readingsStored: total * SIZE, flushFailures: 0 });
    await waitFor(() => h.ingest.counters.batchesAcked === total, 2000, 'acks counted');

    // Detection: one call per commit, every reading exactly once, each call in event-time order,
    // and each call made after its rows were visible to another connection.
    const calls = recording().calls;
    expect(calls).toHaveLength(h.ingest.counters.flushes);
    const keys = calls.flat().map((r) => `${r.sensorId}/${r.seq}`);
    expect(keys).toHaveLength(total * SIZE);
    expect(new Set(keys).size).toBe(total * SIZE);
    for (const call of calls) {
      expect(call.map((r) => r.ts)).toEqual(call.map((r) => r.ts).sort());
    }
    let cumulative = 0;
    expect(recording().rowsAtCall).toEqual(calls.map((c) => (cumulative += c.length)));
  });

  it('counts duplicates across the batches of one commit and hands the merged readings over in time order', async () => {
    await start(MANUAL);
    const gw = await gateway(GW_A);
    await publish(gw.client, GW_A, 'b-later', [wl(3, 30), wl(4, 40), wl(5, 50)]);
    await publish(gw.client, GW_A, 'b-earlier', [wl(1, 10), wl(2, 20), wl(3, 30)]);
    await publish(gw.client, GW_A, 'b-later', [wl(3, 30), wl(4, 40), wl(5, 50)]); // a resend
    await queued(3);
    expect(gw.acks()).toEqual([]);
    h.ingest.flush();

    await waitFor(() => gw.acks().length === 3, 3000, 'three acks');
    expect(gw.acks()).toEqual([
      { v: 1, batchId: 'b-later', stored: 3, duplicates: 0, rejected: [], serverTime: expect.any(String) },
      { v: 1, batchId: 'b-earlier', stored: 2, duplicates: 1, rejected: [], serverTime: expect.any(String) },
      { v: 1, batchId: 'b-later', stored: 0, duplicates: 3, rejected: [], serverTime: expect.any(String) },
    ]);
    expect(h.ingest.counters).toMatchObject({ flushes: 1, readingsStored: 5, duplicates: 4 });
    expect(recording().calls.map((c) => c.map((r) => r.seq))).toEqual([[1, 2, 3, 4, 5]]);
    expect(h.committedRows()).toBe(5);
  });

  it('acks nothing of a commit that fails, counts it, and the resent batches are stored by the next one', async () => {
    await start(MANUAL);
    const a = await gateway(GW_A);
    const b = await gateway(GW_B);
    await publish(a.client, GW_A, 'a-1', [wl(1, 10), wl(2, 20)]);
    await publish(b.client, GW_B, 'b-1', [wl(1, 10, { sensorId: 'rg-1', quantity: 'rain', unit: 'mm' })]);
    await publish(a.client, GW_A, 'a-2', [wl(3, 30)]);
    await queued(3);
    // A real SQLite failure inside the transaction: the connection refuses every write.
    h.db.pragma('query_only = ON');
    expect(() => h.ingest.flush()).not.toThrow();
    await settle(150);
    expect([...a.acks(), ...b.acks()]).toEqual([]);
    expect(h.ingest.counters.flushFailures).toBe(1);
    expect(h.ingest.counters.rejected.store_failed).toBe(3);
    expect(h.ingest.counters.readingsStored).toBe(0);
    expect(recording().calls).toEqual([]);
    expect(h.committedRows()).toBe(0);

    // The disk is writable again; the gateways resend what was never acked.
    h.db.pragma('query_only = OFF');
    await publish(a.client, GW_A, 'a-1', [wl(1, 10), wl(2, 20)]);
    await publish(b.client, GW_B, 'b-1', [wl(1, 10, { sensorId: 'rg-1', quantity: 'rain', unit: 'mm' })]);
    await publish(a.client, GW_A, 'a-2', [wl(3, 30)]);
    await queued(3);
    h.ingest.flush();
    await waitFor(() => a.acks().length === 2 && b.acks().length === 1, 3000, 'acks after recovery');
    expect(a.acks().map((x) => [x.batchId, x.stored])).toEqual([
      ['a-1', 2],
      ['a-2', 1],
    ]);
    expect(b.acks()).toMatchObject([{ batchId: 'b-1', stored: 1, duplicates: 0 }]);
    expect(h.committedRows()).toBe(4);
    expect(recording().calls).toHaveLength(1);
    expect(a.client.connected && b.client.connected).toBe(true);
  });

  it('does not let one batch that cannot be stored hold back the others of its commit', async () => {
    await start(MANUAL);
    // A real statement failure for one sensor's readings only.
    h.db.exec(
      "CREATE TRIGGER poison BEFORE INSERT ON readings WHEN NEW.sensor_id = 'wl-poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
    );
    const gw = await gateway(GW_A);
    const seenRows: number[] = [];
    gw.client.on('message', () => seenRows.push(h.committedRows()));
    await publish(gw.client, GW_A, 'good-1', [wl(1, 10)]);
    await publish(gw.client, GW_A, 'poison', [wl(2, 20, { sensorId: 'wl-poison' })]);
    await publish(gw.client, GW_A, 'good-2', [wl(3, 30)]);
    await queued(3);
    h.ingest.flush();
    await waitFor(() => gw.acks().length === 2, 3000, 'acks of the good batches');
    await settle(100);
    expect(gw.acks().map((x) => x.batchId)).toEqual(['good-1', 'good-2']);
    expect(seenRows).toEqual([2, 2]);
    expect(h.ingest.counters).toMatchObject({ flushFailures: 1, readingsStored: 2 });
    expect(h.ingest.counters.rejected.store_failed).toBe(1);
    expect(recording().calls.map((c) => c.map((r) => r.seq))).toEqual([[1, 3]]);

    h.db.exec('DROP TRIGGER poison');
    await publish(gw.client, GW_A, 'poison', [wl(2, 20, { sensorId: 'wl-poison' })]);
    h.ingest.flush();
    await waitFor(() => gw.acks().length === 3, 3000, 'ack of the resent batch');
    expect(gw.acks()[2]).toMatchObject({ batchId: 'poison', stored: 1 });
  });

  it('commits and acks on stop, then writes each batch at once; after the database closed nothing is acked', async () => {
    await start(MANUAL);
    const gw = await gateway(GW_A);
    await publish(gw.client, GW_A, 'q-1', [wl(1, 10)]);
    await publish(gw.client, GW_A, 'q-2', [wl(2, 20)]);
    await queued(2);
    h.ingest.stop();
    expect(h.committedRows()).toBe(2); // synchronous: committed when stop() returns
    await waitFor(() => gw.acks().length === 2, 3000, 'acks of the queued batches');

    await publish(gw.client, GW_A, 'after-stop', [wl(3, 30)]);
    await waitFor(() => gw.acks().length === 3, 3000, 'ack without a flush');
    expect(h.ingest.pendingBatches()).toBe(0);
    expect(recording().calls.map((c) => c.map((r) => r.seq))).toEqual([[1, 2], [3]]);

    // The server's shutdown race: a batch arrives after the database closed.
    h.db.close();
    await publish(gw.client, GW_A, 'too-late', [wl(4, 40)]);
    await settle(150);
    expect(gw.acks()).toHaveLength(3);
    expect(h.ingest.counters.rejected.store_failed).toBe(1);
    expect(gw.client.connected).toBe(true);
  });

  it('with the real engine, raises and escalates in event-time order across the batches of one commit', async () => {
    await start(MANUAL, true);
    const engine = h.engine as KentonganAlertEngine;
    const siren = await gatewayClient(h.mqttUrl, GW_B, PASSWORD_A);
    const levels = collect(siren);
    await siren.subscribeAsync(topics.alert('jatinangor'), { qos: 1 });
    const gw = await gateway(GW_A);
    // The later readings arrive first; one commit holds both batches.
    await publish(gw.client, GW_A, 'b-later', [wl(3, 170), wl(4, 175)]);
    await publish(gw.client, GW_A, 'b-earlier', [wl(1, 70), wl(2, 75)]);
    await queued(2);
    h.ingest.flush();
    await waitFor(() => gw.acks().length === 2, 3000, 'acks');

    const [alert] = engine.listAlerts({ state: 'active' });
    expect(alert).toMatchObject({ level: 'Siaga', sensorId: 'wl-1' });
    // Waspada confirmed by seq 1-2, then Siaga by seq 3-4: nothing was skipped as late.
    const trail = engine.auditTrail(alert!.id);
    expect(trail.map((e) => [e.change, e.to, e.evidence?.ts])).toEqual([
      ['opened', 'Waspada', wl(2, 0).ts],
      ['escalated', 'Siaga', wl(4, 0).ts],
    ]);
    expect(engine.counters()).toMatchObject({ readingsEvaluated: 4, lateIgnored: 0 });
    await waitFor(
      () => levels.messages.map((m) => areaAlertSchema.parse(JSON.parse(m.payload.toString()))).find((m) => m.level === 'Siaga'),
      3000,
      'Siaga on the alerts topic',
    );
  });
});
