/**
 * The whole gateway (startGateway, as the CLI runs it) with a Modbus bus on a real
 * pseudo-terminal next to nothing else: Modbus readings take the same path as line-sensor
 * readings (disk queue -> MQTT batches -> server ack -> removed), appear in the health message,
 * and every value the simulator served reaches the server exactly once (by the server's key).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig, startGateway, type RunningGateway } from '@kentongan/gateway';
import { FakeServer, startBroker, type TestBroker } from '../../gateway/test/helpers/broker.ts';
import { openPtyPair, type PtyPair } from '../src/pty/pty-pair.ts';
import { DeviceHealthUnit, RadarLevelUnit } from '../src/modbus/register-maps.ts';
import { ModbusSlaveSimulator } from '../src/modbus/slave-simulator.ts';
import { waitFor } from './modbus-rig.ts';
import { openGatewayDatabase } from '../../gateway/src/queue/database.ts';
import { DiskQueue } from '../../gateway/src/queue/disk-queue.ts';

describe('gateway with a Modbus RTU bus, end to end over MQTT', () => {
  let dir: string;
  let pty: PtyPair;
  let sim: ModbusSlaveSimulator;
  let broker: TestBroker;
  let server: FakeServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kentongan-modbus-gw-'));
    pty = await openPtyPair(dir, 'rs485');
    sim = await ModbusSlaveSimulator.open(pty.devicePath, [new RadarLevelUnit(1, { startMm: 2000, stepMm: 10 }), new DeviceHealthUnit(5)], {}, { garbageRate: 0.2, seed: 'gw-e2e' });
    broker = await startBroker();
    server = await FakeServer.connect(broker.url, 'gw-modbus');
    server.autoAck = true;
    const config = parseGatewayConfig(
      {
        gatewayId: 'gw-modbus',
        dataDir: join(dir, 'data'),
        mqtt: { url: broker.url, password: 'pw', batchIntervalMs: 50 },
        healthIntervalS: 1,
        modbus: {
          buses: [
            {
              path: pty.hostPath,
              timeoutMs: 1000, // no silent unit here: a long timeout only guards against a starved CI machine
              devices: [
                { sensorId: 'wl-01', unitId: 1, values: [{ name: 'level', address: 0, scale: 0.1, unit: 'cm', quantity: 'water_level', pollIntervalS: 0.1 }] },
                {
                  sensorId: 'box-01',
                  unitId: 5,
                  values: [
                    { name: 'battery', address: 0, scale: 0.001, quantity: 'battery_voltage', pollIntervalS: 0.3 },
                    { name: 'tamper', address: 3, health: 'tamper', pollIntervalS: 0.3 },
                  ],
                },
              ],
            },
          ],
        },
      },
      {},
    );
    gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
    await waitFor(() => server.uniqueReadings().filter((r) => r.sensorId === 'wl-01').length >= 15 && server.health.length >= 1, 10_000, 'readings at the server');
    await gateway.stop(); // finishes the transaction on the wire; the queue keeps what is not acked
  }, 30_000);

  afterAll(async () => {
    await gateway?.stop();
    await server?.close();
    await broker?.close();
    await sim?.close();
    await pty?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers Modbus readings through the durable queue with the server key, each served value once', () => {
    const levels = server.uniqueReadings().filter((r) => r.sensorId === 'wl-01');
    const served = sim.served.filter((s) => s.unitId === 1).map((s) => s.registers[0]! / 10);
    // Every distinct reading at the server is a value the bus delivered, none twice.
    expect(levels.map((r) => r.value).every((v) => served.some((s) => Math.abs(s - v) < 1e-9))).toBe(true);
    expect(new Set(levels.map((r) => r.value)).size).toBe(levels.length);
    // What was not acked before the stop is still in the gateway's queue: together, exactly what was served.
    const db = openGatewayDatabase(join(dir, 'data', 'gateway.sqlite'));
    const queued = new DiskQueue(db, { maxReadings: 1000 }).peekBatch(1000).map((q) => q.reading).filter((r) => r.sensorId === 'wl-01');
    db.close();
    const union = new Map([...levels, ...queued].map((r) => [`${r.epoch}/${r.seq}`, Math.round(r.value * 10)]));
    const stored = [...union.values()];
    const servedMm = served.map((v) => Math.round(v * 10));
    expect(new Set(stored).size).toBe(stored.length); // no value stored twice
    expect(stored.every((v) => servedMm.includes(v))).toBe(true); // nothing stored that was not served
    // A reply the simulator wrote after the gateway's timeout (a starved test machine) is rightly
    // not taken; there can be at most one such reply per counted timeout. Normally both are 0.
    const timeouts = gateway.modbusStats()[0]!.devices.find((d) => d.sensorId === 'wl-01')!.timeouts;
    expect(servedMm.length - stored.length).toBeLessThanOrEqual(timeouts);
    expect(stored.length).toBeGreaterThanOrEqual(15);
    expect(levels.every((r) => r.unit === 'cm' && r.quality === 'good')).toBe(true);
  });

  it('reports Modbus devices in stats, in the health message, and keeps health-only values', () => {
    const [bus] = gateway.modbusStats();
    expect(bus!.devices.map((d) => [d.sensorId, d.state])).toEqual([['wl-01', 'alive'], ['box-01', 'alive']]);
    expect(bus!.devices[1]!.health).toEqual({ tamper: 0 });
    const health = server.health.at(-1) as { sensors: { sensorId: string; batteryV: number | null }[] };
    expect(health.sensors.map((s) => s.sensorId).sort()).toEqual(['box-01', 'wl-01']);
    const box = server.uniqueReadings().find((r) => r.sensorId === 'box-01');
    expect(box).toMatchObject({ quantity: 'battery_voltage', value: 12.4, unit: 'V' });
  });
});
