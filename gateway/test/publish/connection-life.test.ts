import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/load.ts';
import { MqttPublisher } from '../../src/publish/mqtt-publisher.ts';
import { openGatewayDatabase, readQueueId } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { GatewayCounters } from '../../src/stats.ts';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { quietLogger, rdg, tempDir, waitFor } from '../helpers/fixtures.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';

describe('connection life', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('reconnects with capped exponential back-off (mqtt.js fixed period not used)', async () => {
    // A "broker" that accepts TCP and hangs up at once: every attempt fails straight away.
    const attempts: number[] = [];
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => {
      attempts.push(performance.now());
      sockets.push(s);
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const config = parseGatewayConfig(
      { gatewayId: 'gw-b', dataDir: dir, mqtt: { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, password: 'x', reconnectPeriodMs: 100, reconnectMaxMs: 400 } },
      {},
    );
    const db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    cleanups.push(() => void db.close());
    const queue = new DiskQueue(db, { maxReadings: 100 });
    // random = the top of the jitter range: delays are then exactly the capped exponential.
    const publisher = new MqttPublisher({ config, queue, queueId: readQueueId(db), counters: new GatewayCounters([]), logger: quietLogger(), now: () => new Date(), startedAt: new Date(), software: 't', random: () => 0.999999 });
    publisher.start();
    cleanups.push(() => publisher.stop());
    await waitFor(() => attempts.length >= 6, 5000, 'six attempts');
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // 100, 200, 400 (cap), 400, 400 ms, give or take the event loop.
    for (const [i, expected] of [100, 200, 400, 400, 400].entries()) {
      expect(gaps[i]).toBeGreaterThanOrEqual(expected - 15);
      expect(gaps[i]).toBeLessThan(expected + 150);
    }
  });

  describe('with a broker that goes away and comes back', () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('counts the reconnect, replays what was queued meanwhile and reports the clock offset from acks', async () => {
      // The gateway's clock is two minutes slow.
      h = await startHarness((c) => {
        c.mqtt.reconnectPeriodMs = 100;
        c.mqtt.reconnectMaxMs = 300;
      }, () => new Date(Date.now() - 120_000));
      await waitFor(() => h!.gateway.stats().connected, 5000, 'connected');
      const port = h.broker.port;
      await h.server.close();
      await h.broker.close();
      await waitFor(() => !h!.gateway.stats().connected, 5000, 'disconnected');
      for (let i = 1; i <= 20; i++) h.send(rdg('wl-01', i, { level_cm: 100 + i }));
      await waitFor(() => h!.gateway.stats().queueDepth === 20, 5000, 'queued while offline');

      const broker: TestBroker = await startBroker(port);
      h.broker = broker;
      const { FakeServer } = await import('../helpers/broker.ts');
      h.server = await FakeServer.connect(broker.url, 'gw-test');
      await waitFor(() => h!.server.batches.length > 0, 5000, 'replayed batch');
      for (const b of h.server.batches.splice(0)) await h.server.ack(b, { serverTime: new Date().toISOString() });
      await h.gateway.drained(5000);
      const s = h.gateway.stats();
      expect(s.reconnects).toBe(1);
      expect(s.acked).toBe(20);
      expect(s.clock.ok).toBe(false);
      expect(s.clock.offsetS).toBeGreaterThan(115);
      expect(s.clock.offsetS).toBeLessThan(125);
      // The health message says so too.
      await waitFor(() => h!.server.health.some((x) => (x as { clock?: { ok: boolean } }).clock?.ok === false), 3000, 'health with clock');
    });
  });
});
