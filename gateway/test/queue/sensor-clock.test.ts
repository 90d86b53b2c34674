import { join } from 'node:path';
import type { Reading } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openGatewayDatabase, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { IngestStore } from '../../src/queue/ingest-store.ts';
import { SensorClock } from '../../src/queue/sensor-clock.ts';
import { SequenceTracker } from '../../src/queue/sequence-tracker.ts';
import { TipCounters } from '../../src/queue/tip-counters.ts';
import { tempDir } from '../helpers/fixtures.ts';

const reading = (sensorId: string, seq: number, ts: string): Reading => ({
  sensorId, epoch: 1, seq, quantity: 'water_level', value: seq, unit: 'cm', ts, quality: 'good',
});

describe('reading timestamps stay monotonic per sensor (clamp and flag)', () => {
  let dir: string;
  let cleanup: () => void;
  let db: GatewayDatabase;
  let clock: Date;
  const open = () => {
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    const queue = new DiskQueue(db, { maxReadings: 1000 });
    const tracker = new SequenceTracker(db, () => clock);
    return { queue, tracker, store: new IngestStore(db, queue, tracker, new TipCounters(db), new SensorClock(db)) };
  };
  const frame = (g: ReturnType<typeof open>, sensorId: string, rawSeq: number) => {
    const d = g.tracker.decide(sensorId, rawSeq, false);
    if (d.kind !== 'accept') throw new Error('duplicate');
    g.store.commit({ sequence: d, readings: [reading(sensorId, d.seq, clock.toISOString())], tipUpdates: [] });
  };

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    clock = new Date('2026-06-01T10:00:00.000Z');
  });
  afterEach(() => {
    if (db?.open) db.close();
    cleanup();
  });

  it('after a reboot with a clock that went back, new readings are held at the last issued time and counted', () => {
    let g = open();
    frame(g, 'wl-1', 1);
    clock = new Date('2026-06-01T10:05:00.000Z');
    frame(g, 'wl-1', 2);
    db.close();

    // Power cut; the Pi comes back with a clock an hour behind.
    clock = new Date('2026-06-01T09:05:00.000Z');
    g = open();
    frame(g, 'wl-1', 3);
    frame(g, 'wl-2', 1); // another sensor has no history: its time is taken as is
    const ts = g.queue.peekBatch(10).map((r) => `${r.reading.sensorId}@${r.reading.ts}`);
    expect(ts).toEqual([
      'wl-1@2026-06-01T10:00:00.000Z',
      'wl-1@2026-06-01T10:05:00.000Z',
      'wl-1@2026-06-01T10:05:00.000Z', // clamped, not 09:05
      'wl-2@2026-06-01T09:05:00.000Z',
    ]);
    expect(g.store.clock.clamped).toBe(1);
    expect(g.store.clock.largestStepBackMs).toBe(3_600_000);

    // Once the clock is right again, times move on normally.
    clock = new Date('2026-06-01T10:06:00.000Z');
    frame(g, 'wl-1', 4);
    expect(g.queue.peekBatch(10).at(-1)!.reading.ts).toBe('2026-06-01T10:06:00.000Z');
    expect(g.store.clock.clamped).toBe(1);
  });

  it('a frame whose commit fails moves no clock state', () => {
    const g = open();
    frame(g, 'wl-1', 1);
    db.exec('DROP TABLE tip_counter'); // the next commit fails inside its transaction
    clock = new Date('2026-06-01T11:00:00.000Z');
    const d = g.tracker.decide('wl-1', 2, false);
    if (d.kind !== 'accept') throw new Error('duplicate');
    expect(() => g.store.commit({ sequence: d, readings: [reading('wl-1', d.seq, clock.toISOString())], tipUpdates: [{ sensorId: 'wl-1', channel: 'tips', counter: 1 }] })).toThrow(/could not store/);
    const row = db.prepare('SELECT last_ts_ms FROM sensor_clock WHERE sensor_id = ?').get('wl-1') as { last_ts_ms: number };
    expect(new Date(row.last_ts_ms).toISOString()).toBe('2026-06-01T10:00:00.000Z');
  });
});
