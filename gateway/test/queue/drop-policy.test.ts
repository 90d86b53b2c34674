import { join } from 'node:path';
import type { Quantity, Reading } from '@kentongan/firmware-protocol';
import { QUANTITY_UNITS } from '@kentongan/firmware-protocol';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openGatewayDatabase, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue, dropClassOf } from '../../src/queue/disk-queue.ts';
import { tempDir } from '../helpers/fixtures.ts';

const r = (seq: number, quantity: Quantity): Reading => ({
  sensorId: 's-1', epoch: 0, seq, quantity, value: 1, unit: QUANTITY_UNITS[quantity], ts: '2026-01-01T00:00:00.000Z', quality: 'good',
});

describe('DiskQueue bound: device health is dropped before hazard readings, oldest first', () => {
  let dir: string;
  let cleanup: () => void;
  let db: GatewayDatabase;
  const logs: { msg: string; droppedTotal?: number }[] = [];
  const open = (max: number) => {
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    const sink = new Writable({ write: (c, _e, cb) => (logs.push(JSON.parse(String(c))), cb()) });
    return new DiskQueue(db, { maxReadings: max, logger: pino({ level: 'warn' }, sink) });
  };

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    logs.length = 0;
  });
  afterEach(() => {
    if (db?.open) db.close();
    cleanup();
  });

  it('classifies the quantities', () => {
    expect(['rain', 'water_level', 'displacement', 'tilt_x', 'tilt_y'].map((q) => dropClassOf(r(0, q as Quantity)))).toEqual([1, 1, 1, 1, 1]);
    expect(dropClassOf(r(0, 'battery_voltage'))).toBe(0);
    expect(dropClassOf(r(0, 'temperature'))).toBe(0);
  });

  it('drops the oldest health readings first, even when hazard readings are older', () => {
    const q = open(6);
    q.append([r(1, 'water_level'), r(2, 'water_level'), r(3, 'battery_voltage'), r(4, 'rain'), r(5, 'temperature'), r(6, 'battery_voltage')]);
    q.append([r(7, 'water_level'), r(8, 'water_level')]);
    expect(q.peekBatch(100).map((x) => x.reading.seq)).toEqual([1, 2, 4, 6, 7, 8]);
    expect(q.droppedCounts()).toEqual({ health: 2, hazard: 0, total: 2 });
  });

  it('drops the oldest hazard readings only when no health reading is left', () => {
    const q = open(4);
    q.append([r(1, 'water_level'), r(2, 'battery_voltage'), r(3, 'rain'), r(4, 'water_level')]);
    q.append([r(5, 'water_level'), r(6, 'water_level'), r(7, 'water_level')]);
    expect(q.peekBatch(100).map((x) => x.reading.seq)).toEqual([4, 5, 6, 7]);
    expect(q.droppedCounts()).toEqual({ health: 1, hazard: 2, total: 3 });
    expect(q.dropped).toBe(3);
    expect(q.depth()).toBe(4);
    // Reported once (rate-limited), with the running total.
    expect(logs.filter((l) => l.msg.startsWith('queue full'))).toHaveLength(1);
    expect(logs[0]!.droppedTotal).toBe(3);
  });

  it('keeps the running total of drops in the file across restarts', () => {
    let q = open(2);
    q.append([r(1, 'rain'), r(2, 'rain'), r(3, 'rain')]);
    db.close();
    q = open(2);
    expect(q.droppedCounts()).toEqual({ health: 0, hazard: 0, total: 1 });
    q.append([r(4, 'rain')]);
    expect(q.droppedCounts().total).toBe(2);
  });

  it('a drop inside an outer transaction that rolls back is undone, total included', () => {
    const q = open(2);
    q.append([r(1, 'rain'), r(2, 'rain')]);
    expect(() =>
      db.transaction(() => {
        q.append([r(3, 'rain')]);
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    q.resync();
    expect(q.depth()).toBe(2);
    expect(q.droppedCounts().total).toBe(0);
    expect(q.peekBatch(10).map((x) => x.reading.seq)).toEqual([1, 2]);
  });
});
