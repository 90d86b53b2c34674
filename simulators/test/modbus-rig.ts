/**
 * Test rig for the Modbus tests: a socat pseudo-terminal pair, the slave simulator on one end,
 * and on the other the gateway's real Modbus bus, ingest, sequence tracker and SQLite queue
 * (the same classes startGateway wires), in a temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SerialPort } from 'serialport';
import { modbusBusSchema, type ModbusBusConfig } from '../../gateway/src/drivers/modbus/schema.ts';
import { ModbusBus } from '../../gateway/src/drivers/modbus/modbus-bus.ts';
import { ModbusIngest } from '../../gateway/src/drivers/modbus/modbus-ingest.ts';
import { openGatewayDatabase, type GatewayDatabase } from '../../gateway/src/queue/database.ts';
import { DiskQueue, type QueuedReading } from '../../gateway/src/queue/disk-queue.ts';
import { IngestStore } from '../../gateway/src/queue/ingest-store.ts';
import { SequenceTracker } from '../../gateway/src/queue/sequence-tracker.ts';
import { TipCounters } from '../../gateway/src/queue/tip-counters.ts';
import { GatewayCounters } from '../../gateway/src/stats.ts';
import type { BindingInterface } from '../../gateway/src/transport/serial-types.ts';
import { openPtyPair, type PtyPair } from '../src/pty/pty-pair.ts';
import type { SimulatedUnit } from '../src/modbus/register-maps.ts';
import { ModbusSlaveSimulator, type SlaveFaults } from '../src/modbus/slave-simulator.ts';

export interface ModbusRig {
  pty: PtyPair;
  sim: ModbusSlaveSimulator;
  bus: ModbusBus;
  counters: GatewayCounters;
  queued(): QueuedReading[];
  /** Stops the gateway side (bus), keeps the database. */
  stopBus(): Promise<void>;
  /** Starts a new gateway side on the same database (a gateway restart). */
  restartBus(): Promise<void>;
  close(): Promise<void>;
}

export async function openModbusRig(busInput: Omit<Record<string, unknown>, 'path'>, units: SimulatedUnit[], faults: SlaveFaults = {}): Promise<ModbusRig> {
  const dir = mkdtempSync(join(tmpdir(), 'kentongan-modbus-'));
  const pty = await openPtyPair(dir, 'rs485');
  const sim = await ModbusSlaveSimulator.open(pty.devicePath, units, {}, faults);
  const busConfig: ModbusBusConfig = modbusBusSchema.parse({ ...busInput, path: pty.hostPath });
  let db: GatewayDatabase;
  let queue: DiskQueue;
  let counters: GatewayCounters;
  let bus: ModbusBus;
  const start = async () => {
    db = openGatewayDatabase(join(dir, 'gateway.sqlite'));
    queue = new DiskQueue(db, { maxReadings: 1_000_000 });
    const store = new IngestStore(db, queue, new SequenceTracker(db, () => new Date()), new TipCounters(db));
    counters = new GatewayCounters(busConfig.devices.map((d) => d.sensorId));
    const logger = pino({ level: 'silent' });
    const ingest = new ModbusIngest({ store, counters, logger });
    bus = new ModbusBus({ bus: busConfig, binding: SerialPort.binding as BindingInterface, logger, now: () => new Date(), reconnect: { minDelayMs: 50, maxDelayMs: 500 }, onValues: (p, s) => ingest.handle(p, s) });
    await bus.start();
  };
  await start();
  const rig: ModbusRig = {
    pty,
    sim,
    get bus() {
      return bus;
    },
    get counters() {
      return counters;
    },
    queued: () => queue.peekBatch(1_000_000),
    async stopBus() {
      await bus.stop();
      db.close();
    },
    restartBus: start,
    async close() {
      await bus.stop().catch(() => {});
      if (db.open) db.close();
      await sim.close();
      await pty.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
