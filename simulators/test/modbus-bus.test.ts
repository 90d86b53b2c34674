/**
 * The gateway's Modbus RTU driver against the slave simulator over a real pseudo-terminal pair
 * (socat), real RTU frames, short timeouts.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceHealthUnit, ExtensometerUnit, RadarLevelUnit, RainGaugeUnit, TiltmeterUnit } from '../src/modbus/register-maps.ts';
import { openModbusRig, waitFor, type ModbusRig } from './modbus-rig.ts';
import { openPtyPair } from '../src/pty/pty-pair.ts';
import { ModbusSlaveSimulator } from '../src/modbus/slave-simulator.ts';

const example = JSON.parse(readFileSync(fileURLToPath(new URL('../../gateway/config/examples/modbus-field-station.json', import.meta.url)), 'utf8'));
const exampleBus = example.modbus.buses[0];

let rig: ModbusRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const values = (r: ModbusRig, sensorId: string) => r.queued().filter((q) => q.reading.sensorId === sensorId).map((q) => q.reading);
const device = (r: ModbusRig, sensorId: string) => r.bus.stats().devices.find((d) => d.sensorId === sensorId)!;

describe('Modbus RTU over a pseudo-terminal', () => {
  it('reads the five realistic register maps of the shipped example into calibrated readings', async () => {
    const { path: _p, ...bus } = exampleBus;
    rig = await openModbusRig({ ...bus, timeoutMs: 300 }, [new RadarLevelUnit(1), new RainGaugeUnit(2, 100, 3), new ExtensometerUnit(3), new TiltmeterUnit(4), new DeviceHealthUnit(5)]);
    await waitFor(() => rig!.bus.stats().devices.every((d) => d.ok > 0) && values(rig!, 'cmg-box-01').length === 2, 8000, 'a first poll of every device');
    const r = rig;
    expect(values(r, 'cmg-wl-01').map((x) => [x.quantity, x.value, x.unit, x.quality])).toEqual([
      ['water_level', 80, 'cm', 'good'],
      ['temperature', 27.6, 'degC', 'good'],
    ]);
    expect(values(r, 'cmg-rg-01').map((x) => [x.quantity, x.value])).toEqual([['rain', 0], ['battery_voltage', 12.6]]); // baseline
    expect(values(r, 'cmg-ext-01').map((x) => [x.quantity, x.value])).toEqual([['displacement', 12.34]]);
    const tilt = values(r, 'cmg-tilt-01');
    expect(tilt.map((x) => x.quantity)).toEqual(['tilt_x', 'tilt_y']);
    expect(tilt[0]!.value).toBeCloseTo(0.5, 6);
    expect(tilt[1]!.value).toBe(-1.25);
    expect(values(r, 'cmg-box-01').map((x) => [x.quantity, x.value])).toEqual([['battery_voltage', 12.4], ['temperature', 31.2]]);
    expect(device(r, 'cmg-box-01').health).toEqual({ solar_voltage: 18.2, tamper: 0 });
    // Coalescing: the box's four registers came in one read; the radar's two values have different
    // poll intervals (10 s, 300 s), so they are two polls of one register each.
    expect(device(r, 'cmg-box-01').requests).toBe(1);
    expect(device(r, 'cmg-wl-01').requests).toBe(2);
    // Every reading of one poll shares the gateway-assigned (epoch, seq); the next poll takes the next seq.
    const box = values(r, 'cmg-box-01');
    expect(new Set(box.map((x) => `${x.epoch}:${x.seq}`)).size).toBe(1);
    expect(values(r, 'cmg-wl-01').map((x) => x.seq)).toEqual([0, 1]);
    expect(r.bus.stats().port).toBe('open');
  });

  it('a silent unit does not stall a live one: it is marked dead and polled only at the back-off pace', async () => {
    rig = await openModbusRig(
      {
        timeoutMs: 100,
        retries: 1,
        deadAfterFailures: 2,
        deadBackoff: { minMs: 30_000, maxMs: 60_000 },
        devices: [
          { sensorId: 'dead-01', unitId: 9, values: [{ name: 'level', address: 0, scale: 0.1, quantity: 'water_level', pollIntervalS: 0.1 }] },
          { sensorId: 'live-01', unitId: 1, values: [{ name: 'level', address: 0, scale: 0.1, quantity: 'water_level', pollIntervalS: 0.1 }] },
        ],
      },
      [new RadarLevelUnit(1)],
      { silentUnits: [9] },
    );
    await waitFor(() => device(rig!, 'live-01').ok >= 15, 8000, '15 polls of the live unit');
    const dead = device(rig, 'dead-01');
    const live = device(rig, 'live-01');
    expect(dead.state).toBe('dead');
    // Two attempts (one retry), then dead: while the live unit was read 15 times, the dead one
    // cost the bus only those two timeouts; without the back-off it would cost 2 × 100 ms per poll.
    expect(dead.timeouts).toBe(2);
    expect(dead.requests).toBe(2);
    expect(dead.skippedPolls).toBeGreaterThan(5);
    expect(live.timeouts + live.crcErrors).toBe(0);
    expect(rig.sim.counters.unanswered).toBe(2);
    expect(values(rig, 'live-01').length).toBe(live.ok);
  });

  it('counts exception replies per device; the device stays alive and the others are read', async () => {
    rig = await openModbusRig(
      {
        timeoutMs: 200,
        devices: [
          { sensorId: 'exc-01', unitId: 6, values: [{ name: 'level', address: 0, quantity: 'water_level', pollIntervalS: 0.2 }] },
          { sensorId: 'hole-01', unitId: 1, values: [{ name: 'nothing', address: 40, quantity: 'water_level', pollIntervalS: 0.2 }] },
          { sensorId: 'rain-01', unitId: 2, values: [{ name: 'tips', function: 4, address: 0, quantity: 'rain', tippingBucket: { mmPerTip: 0.5 }, pollIntervalS: 0.2 }] },
        ],
      },
      [new RadarLevelUnit(1), new RainGaugeUnit(2, 65534, 1)],
      { exceptionUnits: new Map([[6, 4]]) },
    );
    await waitFor(() => values(rig!, 'rain-01').length >= 4, 5000, 'rain readings');
    const exc = device(rig, 'exc-01');
    const hole = device(rig, 'hole-01');
    expect(exc.exceptions).toBeGreaterThanOrEqual(2);
    expect(exc.state).toBe('alive');
    expect(exc.retries).toBe(0); // a refusal is not retried
    expect(hole.exceptions).toBeGreaterThanOrEqual(2); // illegal data address
    expect(values(rig, 'exc-01')).toEqual([]);
    // The rain counter wrapped 65535 -> 0 on the way: still 0.5 mm per poll.
    expect(values(rig, 'rain-01').slice(0, 4).map((x) => x.value)).toEqual([0, 0.5, 0.5, 0.5]);
  });

  it('one transaction at a time: many devices at a fast pace, no timeouts, every request answered', async () => {
    const units = [1, 2, 3, 4, 5, 6].map((id) => new RadarLevelUnit(id));
    rig = await openModbusRig(
      { timeoutMs: 300, devices: units.map((u) => ({ sensorId: `wl-${u.unitId}`, unitId: u.unitId, values: [{ name: 'level', address: 0, scale: 0.1, quantity: 'water_level', pollIntervalS: 0.05 }] })) },
      units,
    );
    await waitFor(() => rig!.bus.stats().devices.every((d) => d.ok >= 4), 8000, 'four polls of each device');
    const stats = rig.bus.stats();
    const requests = stats.devices.reduce((n, d) => n + d.requests, 0);
    expect(stats.devices.reduce((n, d) => n + d.timeouts + d.crcErrors + d.exceptions, 0)).toBe(0);
    expect(rig.sim.counters.replies).toBeGreaterThanOrEqual(requests - 1); // the one in flight may not be counted yet by the gateway
    expect(rig.sim.counters.replies).toBeLessThanOrEqual(requests + 1);
    expect(rig.bus.stats().discardedBytes).toBe(0);
  });

  it('hostile register values: a NaN float is refused and counted, the other values of the poll survive', async () => {
    const tilt = new TiltmeterUnit(4, Number.NaN, 2.5);
    rig = await openModbusRig(
      {
        timeoutMs: 300,
        devices: [
          {
            sensorId: 'tilt-01',
            unitId: 4,
            values: [
              { name: 'x', function: 4, address: 0, type: 'float32', wordOrder: 'little', quantity: 'tilt_x', pollIntervalS: 0.1 },
              { name: 'y', function: 4, address: 2, type: 'float32', wordOrder: 'little', quantity: 'tilt_y', pollIntervalS: 0.1 },
            ],
          },
        ],
      },
      [tilt],
    );
    await waitFor(() => values(rig!, 'tilt-01').length >= 3, 5000, 'tilt readings');
    const stored = values(rig, 'tilt-01');
    expect(stored.every((x) => x.quantity === 'tilt_y' && x.value === 2.5)).toBe(true);
    expect(device(rig, 'tilt-01').badValues).toBe(device(rig, 'tilt-01').ok);
    expect(rig.counters.ignoredChannels.bad_value).toBe(device(rig, 'tilt-01').ok);
    // The seq advances once per stored poll, without gaps.
    expect(stored.map((x) => x.seq)).toEqual(stored.map((_, i) => i));
  });

  it('the serial device vanishes and comes back: the bus retries and reads again by itself', async () => {
    rig = await openModbusRig(
      { timeoutMs: 200, devices: [{ sensorId: 'wl-01', unitId: 1, values: [{ name: 'level', address: 0, quantity: 'water_level', pollIntervalS: 0.1 }] }] },
      [new RadarLevelUnit(1)],
    );
    await waitFor(() => device(rig!, 'wl-01').ok >= 2, 5000, 'first reads');
    const dir = dirname(rig.pty.devicePath);
    await rig.sim.close();
    await rig.pty.close(); // socat gone: both ends disappear, as when the USB adapter is pulled
    await waitFor(() => rig!.bus.stats().port === 'retrying', 5000, 'port lost');
    const okWhileGone = device(rig, 'wl-01').ok;
    const pty2 = await openPtyPair(dir, 'rs485');
    const sim2 = await ModbusSlaveSimulator.open(pty2.devicePath, [new RadarLevelUnit(1, { startMm: 5000 })]);
    try {
      await waitFor(() => rig!.bus.stats().port === 'open' && device(rig!, 'wl-01').ok >= okWhileGone + 2, 8000, 'reads after replug');
      expect(values(rig, 'wl-01').some((x) => x.value === 5000)).toBe(true);
    } finally {
      await rig.bus.stop();
      await sim2.close();
      await pty2.close();
    }
  });
});
