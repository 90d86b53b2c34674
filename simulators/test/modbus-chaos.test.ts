/**
 * Chaos: garbage on the Modbus bus. While the gateway polls, the simulator sprays random bytes
 * onto the line (before replies and at random moments) and corrupts the CRC of some replies;
 * the gateway is also restarted half-way on the same database. Afterwards every value the bus
 * really delivered (each intact reply the simulator wrote) is in the gateway's SQLite queue
 * exactly once, with gateway-assigned sequence numbers that never repeat; the refused replies
 * are counted as CRC errors and the noise as discarded bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RadarLevelUnit, RainGaugeUnit } from '../src/modbus/register-maps.ts';
import { openModbusRig, waitFor, type ModbusRig } from './modbus-rig.ts';

describe('chaos: garbage on the Modbus bus', () => {
  let rig: ModbusRig;
  let crcErrors = 0;
  let discarded = 0;
  let timeouts = 0;
  const timeoutsBy = new Map<string, number>();
  let queued: ReturnType<ModbusRig['queued']> = [];

  beforeAll(async () => {
    rig = await openModbusRig(
      {
        timeoutMs: 400,
        retries: 2,
        deadAfterFailures: 50, // keep polling through the noise: this test is about garbage, not dead units
        devices: [
          { sensorId: 'wl-01', unitId: 1, values: [{ name: 'level', address: 0, scale: 0.1, quantity: 'water_level', pollIntervalS: 0.05 }] },
          { sensorId: 'rg-01', unitId: 2, values: [{ name: 'tips', function: 4, address: 0, quantity: 'rain', tippingBucket: { mmPerTip: 0.2 }, pollIntervalS: 0.05 }] },
        ],
      },
      [new RadarLevelUnit(1, { startMm: 1000, stepMm: 3 }), new RainGaugeUnit(2, 500, 2)],
      { corruptRate: 0.15, garbageRate: 0.4, maxGarbageBytes: 24, seed: 'chaos-1' },
    );
    const spray = setInterval(() => rig.sim.injectGarbage(1 + Math.floor(Math.random() * 8)), 37);
    try {
      await waitFor(() => rig.sim.counters.corrupted >= 3 && rig.queued().length >= 24, 15_000, 'polls under garbage');
      const before = rig.bus.stats();
      await rig.stopBus();
      await rig.restartBus();
      await waitFor(() => rig.queued().length >= 50, 15_000, 'polls after restart');
      const after = rig.bus.stats();
      for (const s of [before, after]) {
        discarded += s.discardedBytes;
        for (const d of s.devices) {
          crcErrors += d.crcErrors;
          timeouts += d.timeouts;
          timeoutsBy.set(d.sensorId, (timeoutsBy.get(d.sensorId) ?? 0) + d.timeouts);
        }
      }
    } finally {
      clearInterval(spray);
    }
    await rig.bus.stop(); // nothing in flight any more: served and stored can be compared
    queued = rig.queued();
  }, 40_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('stores every value the bus delivered exactly once, and nothing else', () => {
    const stored = queued.map((q) => q.reading);
    const levels = stored.filter((r) => r.sensorId === 'wl-01').map((r) => Math.round(r.value * 10));
    const servedLevels = rig.sim.served.filter((s) => s.unitId === 1).map((s) => s.registers[0]!);
    expect(levels.length).toBeGreaterThan(15);
    expect(new Set(levels).size).toBe(levels.length); // the simulated river rises on every read: stored once each
    expect(levels.every((v) => servedLevels.includes(v))).toBe(true); // nothing that was not served
    // Every served value is stored, except (at most one per counted timeout) a reply the simulator
    // wrote after the gateway had given up on it (a starved machine); normally there are none.
    expect(servedLevels.length - levels.length).toBeLessThanOrEqual(timeoutsBy.get('wl-01') ?? 0);
  });

  it('counts every rain tip the gauge delivered once: no tip lost or doubled by garbage or the restart', () => {
    const stored = queued.map((q) => q.reading).filter((r) => r.sensorId === 'rg-01');
    const served = rig.sim.served.filter((s) => s.unitId === 2).map((s) => s.registers[0]!);
    expect(served.length - stored.length).toBeLessThanOrEqual(timeoutsBy.get('rg-01') ?? 0);
    // Tips are a cumulative counter: even a reply missed late loses no rain, the next one holds it.
    const mm = stored.reduce((sum, r) => sum + r.value, 0);
    const lastStored = served.length === stored.length ? served[served.length - 1]! : null;
    if (lastStored !== null) expect(mm).toBeCloseTo((lastStored - served[0]!) * 0.2, 6); // the first read is the baseline
    else expect(mm).toBeGreaterThan(0);
  });

  it('gateway-assigned keys never repeat, across the restart', () => {
    const keys = queued.map((q) => `${q.reading.sensorId}|${q.reading.epoch}|${q.reading.seq}|${q.reading.quantity}`);
    expect(new Set(keys).size).toBe(keys.length);
    const wlSeqs = queued.filter((q) => q.reading.sensorId === 'wl-01').map((q) => q.reading.seq);
    expect(wlSeqs).toEqual(wlSeqs.map((_, i) => i)); // one epoch, consecutive: the restart continued the count
  });

  it('counts the refused replies and the noise', () => {
    expect(crcErrors + timeouts).toBeGreaterThanOrEqual(rig.sim.counters.corrupted - 2);
    expect(discarded).toBeGreaterThan(0);
    expect(rig.sim.counters.garbageBytes).toBeGreaterThan(0);
  });
});
