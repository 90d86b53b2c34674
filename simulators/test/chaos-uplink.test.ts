/**
 * Chaos with real processes, the uplink side: the server (with its embedded broker) is stopped for
 * a while and restarted, then killed with SIGKILL while batches are in flight and restarted. The
 * gateway is the real CLI in its own process, the sensors are simulated behind socat
 * pseudo-terminals. Afterwards the server's SQLite must hold every reading the sensors produced,
 * each (sensor, epoch, seq) exactly once, and the gateway must have gone through its resend path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosRig, sleep } from './chaos-helpers.ts';

describe('chaos: server stopped, then killed mid-stream; gateway and sensors keep going', () => {
  let rig: ChaosRig;
  const seen = { stopSignal: '', killSignal: '', storedAtKill: 0, producedAtKill: 0, disconnects: 0 };

  beforeAll(async () => {
    rig = await ChaosRig.create();
    await rig.startServer();
    await rig.startGateway();
    await rig.attachSensors();

    // Phase 1: the server (and broker) goes away gracefully for a while; sensors keep reporting.
    await rig.tick(40);
    await rig.storedAtLeast(20);
    seen.stopSignal = await rig.kill(rig.server, 'SIGTERM');
    await rig.tick(120, 5);
    await sleep(800);
    await rig.startServer();
    await rig.tick(40);

    // Phase 2: SIGKILL while the stream runs and batches are in flight.
    const streaming = rig.tick(300, 4);
    await rig.storedAtLeast(rig.countRows() + 60);
    seen.storedAtKill = rig.countRows();
    seen.producedAtKill = rig.produced();
    seen.killSignal = await rig.kill(rig.server, 'SIGKILL');
    await sleep(800);
    await rig.startServer();
    await streaming;
    await rig.storedAtLeast(rig.produced(), 20_000);
    // Give late resends a moment: they must be recognised as duplicates, not stored again.
    await sleep(500);
    seen.disconnects = rig.gatewayLog.filter((l) => l.msg === 'mqtt disconnected').length;
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('really stopped and killed the server while readings were flowing', () => {
    expect(seen.stopSignal).toBe('0'); // graceful stop exits 0
    expect(seen.killSignal).toBe('SIGKILL');
    expect(seen.storedAtKill).toBeLessThan(rig.produced());
    expect(seen.producedAtKill).toBeLessThan(rig.produced()); // sensors kept reporting after the kill
    expect(seen.disconnects).toBeGreaterThanOrEqual(2);
  });

  it('stores every reading the sensors produced exactly once', () => {
    const c = rig.count();
    expect(c.rows).toBe(rig.produced());
    expect(c.distinct).toBe(c.rows);
    for (const s of rig.sensors) {
      const keys = c.keys.get(s.spec.id) ?? [];
      expect(keys.length).toBe(s.counters.channelValues);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('went through the resend path (batches in flight at the kill were sent again)', () => {
    expect(rig.gatewayLog.filter((l) => l.msg === 'batch resent').length).toBeGreaterThan(0);
    expect(rig.gatewayLog.filter((l) => l.msg === 'mqtt connected').length).toBeGreaterThanOrEqual(3);
  });
});
