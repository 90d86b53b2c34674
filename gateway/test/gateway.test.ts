import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { healthSchema, statusSchema, topics } from '@kentongan/firmware-protocol';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../src/gateway.ts';
import { openGatewayDatabase } from '../src/queue/database.ts';
import { DiskQueue } from '../src/queue/disk-queue.ts';
import { hbt, hel, rdg, waitFor } from './helpers/fixtures.ts';
import { GATEWAY_ID, startHarness, type Harness } from './helpers/harness.ts';

const T0 = new Date('2025-03-01T10:00:00.000Z');
/** The epoch of a sensor first seen at T0: the clock in whole UTC seconds (SPEC.md §5.4). */
const E0 = Math.floor(T0.getTime() / 1000);

describe('gateway with a real broker and a mock serial port', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('publishes a retained birth message and a schema-valid health message', async () => {
    h = await startHarness();
    await waitFor(() => h!.gateway.stats().connected, 5000, 'mqtt connect');
    await waitFor(() => h!.server.health.length > 0, 5000, 'health');
    expect(healthSchema.safeParse(h.server.health[0]).success).toBe(true);
    // A client that subscribes later gets the retained status: the birth message.
    const late = await mqtt.connectAsync(h.broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    const got = new Promise<{ payload: unknown; retain: boolean }>((resolve) =>
      late.on('message', (_t, payload, packet) => resolve({ payload: JSON.parse(payload.toString()), retain: packet.retain })),
    );
    await late.subscribeAsync(topics.status(GATEWAY_ID), { qos: 1 });
    const { payload, retain } = await got;
    await late.endAsync(true);
    expect(retain).toBe(true);
    expect(statusSchema.parse(payload)).toMatchObject({ gatewayId: GATEWAY_ID, state: 'online', software: 'kentongan-gateway/0.1.0' });
  });

  it('delivers every reading with its epoch/seq/values and removes nothing before the ack', async () => {
    h = await startHarness(undefined, () => T0);
    h.send(hel('wl-01', 0) + rdg('wl-01', 1, { level_cm: 101.5, batt_v: 3.8 }) + rdg('wl-01', 2, { level_cm: 2500 }));
    h.send(rdg('rg-01', 40, { tips: 1000 }) + rdg('rg-01', 41, { tips: 1007 }) + hbt('wl-01', 3, { batt_v: 3.7, uptime_s: 5 }));
    await waitFor(() => h!.server.readings().length === 6, 5000, 'six readings');
    const stats = h.gateway.stats();
    expect(stats.readingsAccepted).toBe(6);
    expect(stats.queueDepth).toBe(6); // published, not acked: still on disk
    // The broker's PUBACK for all six (the `published` count goes up in the same callback) is
    // not a server ack: nothing may have left the queue.
    await waitFor(() => h!.gateway.stats().published === 6, 5000, 'PUBACKs');
    expect(h.gateway.stats().queueDepth).toBe(6);

    const ts = T0.toISOString();
    const rs = h.server.readings().map(({ sensorId, epoch, seq, quantity, value, unit, quality }) => ({ sensorId, epoch, seq, quantity, value, unit, quality }));
    expect(rs).toEqual([
      { sensorId: 'wl-01', epoch: E0, seq: 1, quantity: 'water_level', value: 101.5, unit: 'cm', quality: 'good' },
      { sensorId: 'wl-01', epoch: E0, seq: 1, quantity: 'battery_voltage', value: 3.8, unit: 'V', quality: 'good' },
      { sensorId: 'wl-01', epoch: E0, seq: 2, quantity: 'water_level', value: 2500, unit: 'cm', quality: 'suspect' },
      { sensorId: 'rg-01', epoch: E0, seq: 40, quantity: 'rain', value: 0, unit: 'mm', quality: 'good' },
      { sensorId: 'rg-01', epoch: E0, seq: 41, quantity: 'rain', value: 1.4, unit: 'mm', quality: 'good' },
      { sensorId: 'wl-01', epoch: E0, seq: 3, quantity: 'battery_voltage', value: 3.7, unit: 'V', quality: 'good' },
    ]);
    expect(h.server.readings().every((r) => r.ts === ts)).toBe(true);

    for (const b of h.server.batches) await h.server.ack(b);
    await h.gateway.drained(5000);
    const after = h.gateway.stats();
    expect(after).toMatchObject({ queueDepth: 0, acked: 6, published: 6, rejectedByServer: 0, connected: true });
    expect(after.ports).toEqual({ [h.portPath]: 'open' });
  });

  it('keeps batches within batchMaxReadings and in flight within maxInFlightBatches, oldest first', async () => {
    h = await startHarness((c) => {
      c.mqtt.batchMaxReadings = 3;
      c.mqtt.maxInFlightBatches = 2;
    });
    let frames = '';
    for (let seq = 1; seq <= 20; seq++) frames += rdg('wl-01', seq, { level_cm: seq });
    h.send(frames);
    await waitFor(() => h!.gateway.stats().readingsAccepted === 20);
    await waitFor(() => h!.server.batches.length === 2);
    // Paced: no more until an ack. A health message saying the queue holds all 20 was published
    // after every reading was committed (each commit pumps), so any third batch was published
    // before it on the same connection and would have reached the server first.
    await waitFor(() => h!.server.health.some((m) => (m as { queueDepth: number }).queueDepth === 20), 5000, 'health after all 20 readings');
    expect(h.server.batches).toHaveLength(2);
    let acked = 0;
    let maxUnacked = 0;
    while (h.gateway.stats().queueDepth > 0) {
      await waitFor(() => h!.server.batches.length > acked, 3000, 'next batch');
      maxUnacked = Math.max(maxUnacked, h.server.batches.length - acked);
      const depth = h.gateway.stats().queueDepth;
      const batch = h.server.batches[acked++]!;
      await h.server.ack(batch);
      await waitFor(() => h!.gateway.stats().queueDepth === depth - batch.readings.length, 3000, 'ack applied');
    }
    expect(maxUnacked).toBe(2);
    expect(h.server.batches).toHaveLength(7); // 20 readings in batches of at most 3, none resent
    expect(h.server.batches.every((b) => b.readings.length <= 3)).toBe(true);
    expect(h.server.uniqueReadings().map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('counts and ignores bad acks; an ack with rejected readings removes them and counts them', async () => {
    h = await startHarness();
    h.send(rdg('wl-01', 1, { level_cm: 1 }) + rdg('wl-01', 2, { level_cm: 2 }));
    await waitFor(() => h!.server.readings().length === 2);
    const batch = h.server.batches[0]!;
    await h.server.sendRawAck('not json');
    await h.server.sendRawAck(JSON.stringify({ v: 1, batchId: batch.batchId, stored: 'all' }));
    await h.server.sendRawAck(JSON.stringify({ v: 1, batchId: 'x'.repeat(10), stored: 2, duplicates: 0, rejected: [] }));
    await h.server.ack(batch, { stored: 0, duplicates: 0, rejected: [] }); // covers nothing: kept
    await waitFor(() => h!.gateway.stats().badAcks === 4, 3000, 'four bad acks');
    expect(h.gateway.stats().queueDepth).toBe(2);
    await h.server.ack(batch, { stored: 1, duplicates: 0, rejected: [{ index: 1, reason: 'value out of any range' }] });
    await h.gateway.drained(3000);
    expect(h.gateway.stats()).toMatchObject({ acked: 1, rejectedByServer: 1, queueDepth: 0 });
  });

  it('an ack kept by the broker for a lost database (new SD card) removes none of the new readings', async () => {
    h = await startHarness(undefined, () => T0);
    h.send(rdg('wl-01', 1, { level_cm: 1 }) + rdg('wl-01', 2, { level_cm: 2 }));
    await waitFor(() => h!.server.readings().length === 2);
    const old = h.server.batches[0]!;
    await h.gateway.stop();
    await h.server.ack(old); // queued by the broker for the gateway's persistent session
    // The card is replaced: a fresh database whose rows 1-2 are other readings, queued before the
    // gateway reaches the broker (as readings heard while the uplink is down are).
    rmSync(h.dataDir, { recursive: true, force: true });
    const db = openGatewayDatabase(join(h.dataDir, DATABASE_FILE));
    const fresh = [7, 8].map((seq) => ({ sensorId: 'wl-01', epoch: E0 + 99, seq, quantity: 'water_level' as const, value: seq, unit: 'cm', ts: T0.toISOString(), quality: 'good' as const }));
    expect(new DiskQueue(db, { maxReadings: 100 }).append(fresh)).toEqual([1, 2]);
    db.close();
    h.server.batches.length = 0;
    const gw = await h.restart();
    await waitFor(() => gw.stats().staleAcks === 1, 5000, 'the old ack, ignored');
    expect(gw.stats()).toMatchObject({ queueDepth: 2, acked: 0, badAcks: 0 });
    await waitFor(() => h!.server.readings().length === 2, 5000, 'new readings sent');
    expect(h.server.readings().map((r) => r.seq)).toEqual([7, 8]);
    expect(h.server.batches[0]!.batchId).not.toBe(old.batchId);
    await h.server.ack(h.server.batches[0]!);
    await gw.drained(5000);
    expect(gw.stats().acked).toBe(2);
  });

  it('stop publishes a retained offline status and the queue survives for the next start', async () => {
    h = await startHarness(undefined, () => T0);
    h.send(rdg('wl-01', 1, { level_cm: 1 }));
    await waitFor(() => h!.server.readings().length === 1);
    await h.gateway.stop();
    await waitFor(() => h!.server.statuses.some((s) => s.state === 'offline'));
    h.server.batches.length = 0;
    const gw = await h.restart();
    expect(gw.stats().queueDepth).toBe(1);
    await waitFor(() => h!.server.readings().length === 1, 5000, 'resend after restart');
    expect(h.server.readings()[0]).toMatchObject({ sensorId: 'wl-01', epoch: E0, seq: 1 });
    h.server.autoAck = true;
    await h.server.ack(h.server.batches[0]!);
    await gw.drained(3000);
  });

  it('an ack sent while the gateway was down is delivered by its persistent session and removes the rows', async () => {
    h = await startHarness();
    h.send(rdg('wl-01', 1, { level_cm: 1 }) + rdg('wl-01', 2, { level_cm: 2 }));
    await waitFor(() => h!.server.readings().length === 2);
    const batch = h.server.batches[0]!;
    await h.gateway.stop();
    await h.server.ack(batch); // queued by the broker for the gateway's session (clean=false, QoS 1)
    const gw = await h.restart();
    await gw.drained(5000);
    expect(gw.stats().acked).toBe(2);
  });
});
