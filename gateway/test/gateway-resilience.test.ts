import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { topics } from '@kentongan/firmware-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../src/config/load.ts';
import { startGateway } from '../src/gateway.ts';
import { tapBinding } from '../src/transport/binding-tap.ts';
import { FakeServer, startBroker } from './helpers/broker.ts';
import { baseConfig, hel, quietLogger, rdg, tempDir, waitFor } from './helpers/fixtures.ts';
import { GATEWAY_ID, startHarness, type Harness } from './helpers/harness.ts';
import { MockBinding, emit, mockPort } from './helpers/mock-serial.ts';

/** Small deterministic PRNG (mulberry32) so a failing noise test can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('gateway resilience', () => {
  let h: Harness | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('resends unacked batches after a reconnect, and the will says offline meanwhile', async () => {
    h = await startHarness();
    await waitFor(() => h!.gateway.stats().connected);
    h.send(rdg('wl-01', 1, { level_cm: 10 }) + rdg('wl-01', 2, { level_cm: 11 }));
    await waitFor(() => h!.server.batches.length === 1);
    const first = h.server.batches[0]!;
    const gwClient = h.broker.clients.get(GATEWAY_ID);
    expect(gwClient).toBeDefined();
    gwClient!.close(); // the broker drops the gateway, as a flaky uplink does
    await waitFor(() => h!.server.statuses.some((s) => s.state === 'offline'), 5000, 'will');
    await waitFor(() => h!.server.batches.length >= 2, 5000, 'resend');
    expect(h.server.batches[1]!.batchId).toBe(first.batchId);
    expect(h.server.batches[1]!.readings).toEqual(first.readings);
    expect(h.gateway.stats().resentBatches).toBeGreaterThanOrEqual(1);
    expect(h.gateway.stats().queueDepth).toBe(2);
    expect(h.server.statuses.at(-1)!.state).toBe('online'); // birth again after the reconnect
    await h.server.ack(h.server.batches[1]!);
    await h.gateway.drained(3000);
    expect(h.gateway.stats().acked).toBe(2);
  });

  it('resends a batch whose ack does not come within ackTimeoutMs', async () => {
    h = await startHarness((c) => (c.mqtt.ackTimeoutMs = 300));
    h.send(rdg('wl-01', 1, { level_cm: 10 }));
    await waitFor(() => h!.server.batches.length === 1);
    await waitFor(() => h!.server.batches.length === 2, 3000, 'timeout resend');
    expect(h.server.batches[1]!.batchId).toBe(h.server.batches[0]!.batchId);
    expect(h.gateway.stats().queueDepth).toBe(1);
    await h.server.ack(h.server.batches[0]!);
    await h.gateway.drained(3000);
    // A second ack for the same batch (the server acks the resend too) is harmless. Acks on one
    // topic arrive in order, so once the invalid ack sent after it is counted, it was handled.
    await h.server.ack(h.server.batches[1]!);
    await h.server.sendRawAck('not json');
    await waitFor(() => h!.gateway.stats().badAcks > 0, 3000, 'the marker ack');
    expect(h.gateway.stats()).toMatchObject({ acked: 1, badAcks: 1, staleAcks: 0, queueDepth: 0 });
  });

  it('accepts readings with no broker at all and delivers them once the broker comes up', async () => {
    const port = await freePort();
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const portPath = mockPort();
    const tap = tapBinding(MockBinding);
    const input = baseConfig({ dataDir: dir, mqttUrl: `mqtt://127.0.0.1:${port}`, portPath, gatewayId: GATEWAY_ID });
    input.mqtt.ackTimeoutMs = 400; // the first batches may beat the fake server's subscription
    const config = parseGatewayConfig(input, {});
    const gw = await startGateway(config, { logger: quietLogger(), binding: tap.binding });
    cleanups.push(() => gw.stop());
    for (let seq = 1; seq <= 30; seq++) emit(tap, portPath, rdg('wl-01', seq, { level_cm: seq }));
    await waitFor(() => gw.stats().readingsAccepted === 30);
    expect(gw.stats()).toMatchObject({ connected: false, queueDepth: 30, published: 0 });
    await expect(gw.drained(100)).rejects.toMatchObject({ code: 'drain_timeout' });

    const broker = await startBroker(port);
    cleanups.push(() => broker.close());
    const server = await FakeServer.connect(broker.url, GATEWAY_ID);
    cleanups.push(() => server.close());
    server.autoAck = true;
    await gw.drained(8000);
    expect(server.uniqueReadings().map((r) => r.value)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await gw.stop(); // before the broker goes, so the offline status is acknowledged at once
  });

  it('random bytes interleaved with valid frames: every valid reading stored, rejections counted', async () => {
    h = await startHarness((c) => (c.mqtt.batchMaxReadings = 100));
    h.server.autoAck = true;
    const random = prng(20250301);
    const expected: number[] = [];
    let longRuns = 0;
    h.send(hel('wl-01', 0));
    for (let seq = 1; seq <= 300; seq++) {
      const noise = Buffer.from(Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256)));
      let chunk = Buffer.concat([noise, Buffer.from('\n')]);
      if (seq % 50 === 0) {
        chunk = Buffer.concat([chunk, Buffer.alloc(5000, 0x41 + (seq % 26)), Buffer.from('\n')]);
        longRuns++;
      }
      const value = Math.round(random() * 100_000) / 100;
      expected.push(value);
      h.send(Buffer.concat([chunk, Buffer.from(rdg('wl-01', seq, { level_cm: value }), 'latin1')]));
      if (seq % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => h!.gateway.stats().readingsAccepted === 300, 10_000, '300 readings accepted');
    await h.gateway.drained(10_000);
    const stored = h.server.uniqueReadings().filter((r) => r.quantity === 'water_level');
    expect(stored.map((r) => r.value)).toEqual(expected);
    expect(stored.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
    const stats = h.gateway.stats();
    const rejected = Object.values(stats.rejectedFrames).reduce((a, b) => a + b, 0);
    expect(rejected).toBeGreaterThan(200);
    expect(stats.rejectedFrames.too_long).toBeGreaterThanOrEqual(longRuns);
    expect(stats.gaps).toEqual({ 'wl-01': 0, 'rg-01': 0 });
  });

  it('random bytes glued straight before valid frames (no newline): the frames are still stored, the noise counted', async () => {
    h = await startHarness((c) => (c.mqtt.batchMaxReadings = 100));
    h.server.autoAck = true;
    const random = prng(20250302);
    const expected: number[] = [];
    let noiseBytes = 0;
    h.send(hel('wl-01', 0));
    for (let seq = 1; seq <= 200; seq++) {
      // Noise without "$", CR or LF, so the frame after it begins at the line's last "$" (the codec
      // resynchronises there); every 10th time the noise holds a "$" of its own, a false start.
      const bytes = Array.from({ length: 1 + Math.floor(random() * 60) }, () => {
        const b = Math.floor(random() * 256);
        return b === 0x24 || b === 0x0a || b === 0x0d ? 0x41 : b;
      });
      if (seq % 10 === 0) bytes.splice(Math.floor(bytes.length / 2), 0, 0x24);
      noiseBytes += bytes.length;
      const value = Math.round(random() * 100_000) / 100;
      expected.push(value);
      h.send(Buffer.concat([Buffer.from(bytes), Buffer.from(rdg('wl-01', seq, { level_cm: value }), 'latin1')]));
      if (seq % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    // Lines holding only noise: counted as rejected frames, not as noise in front of a frame.
    h.send('garbage one\r\n\x01\x02$$$\r\n');
    await waitFor(() => h!.gateway.stats().readingsAccepted === 200, 10_000, '200 readings accepted');
    await waitFor(() => Object.values(h!.gateway.stats().rejectedFrames).reduce((a, b) => a + b, 0) === 2, 5000, 'two noise lines rejected');
    expect(h.gateway.stats().noiseBytes).toBe(noiseBytes);
    await h.gateway.drained(10_000);
    const stored = h.server.uniqueReadings().filter((r) => r.quantity === 'water_level');
    expect(stored.map((r) => r.value)).toEqual(expected);
    expect(stored.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
    expect(h.gateway.stats().gaps).toEqual({ 'wl-01': 0, 'rg-01': 0 });
  });

  it('a refused ack subscription (SUBACK 0x80) keeps the gateway off line and silent, and is retried on reconnect', async () => {
    let refuse = true;
    const broker = await startBroker(0, undefined, (clientId, topic) => !(refuse && clientId === GATEWAY_ID && topic === topics.ack(GATEWAY_ID)));
    cleanups.push(() => broker.close());
    const server = await FakeServer.connect(broker.url, GATEWAY_ID);
    cleanups.push(() => server.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const portPath = mockPort();
    const tap = tapBinding(MockBinding);
    const gw = await startGateway(parseGatewayConfig(baseConfig({ dataDir: dir, mqttUrl: broker.url, portPath, gatewayId: GATEWAY_ID }), {}), {
      logger: quietLogger(),
      binding: tap.binding,
    });
    cleanups.push(() => gw.stop());
    emit(tap, portPath, rdg('wl-01', 1, { level_cm: 1 }) + rdg('wl-01', 2, { level_cm: 2 }));
    await waitFor(() => gw.stats().readingsAccepted === 2);
    // Two refusals after the readings were queued: a whole connection came and went in between,
    // on which a gateway that ignored the refusal would have sent its birth message and the batch.
    const refusedBefore = gw.stats().ackSubscribeRefused;
    await waitFor(() => gw.stats().ackSubscribeRefused >= refusedBefore + 2, 10_000, 'refused, reconnected, refused again');
    expect(gw.stats()).toMatchObject({ connected: false, published: 0, queueDepth: 2 });
    expect(server.batches).toEqual([]);
    expect(server.statuses.filter((st) => st.state === 'online')).toEqual([]);

    refuse = false; // the operator fixed the ACL: the next reconnect subscribes and delivers
    server.autoAck = true;
    await gw.drained(10_000);
    expect(gw.stats()).toMatchObject({ connected: true, acked: 2 });
    await gw.stop();
  });

  it('a serial port that is unplugged is retried, reported, and delivers again once back', async () => {
    h = await startHarness();
    h.server.autoAck = true;
    h.send(rdg('wl-01', 1, { level_cm: 1 }));
    await waitFor(() => h!.gateway.stats().readingsAccepted === 1);
    const before = h.tap.port(h.portPath)!;
    h.tap.unplug(h.portPath);
    await waitFor(() => h!.gateway.stats().ports[h!.portPath] === 'retrying', 3000, 'retrying');
    await h.tap.waitForOpen(h.portPath, 3000, before);
    await waitFor(() => h!.gateway.stats().ports[h!.portPath] === 'open', 3000, 'open again');
    h.send(rdg('wl-01', 2, { level_cm: 2 }));
    await waitFor(() => h!.gateway.stats().readingsAccepted === 2);
    await h.gateway.drained(3000);
    expect(h.server.uniqueReadings().map((r) => r.seq)).toEqual([1, 2]);
  });
});
