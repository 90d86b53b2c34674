import { join } from 'node:path';
import { readingsBatchSchema, type Ack, type Reading } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchSender } from '../../src/publish/batch-sender.ts';
import { openGatewayDatabase, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { GatewayCounters } from '../../src/stats.ts';
import { quietLogger, tempDir } from '../helpers/fixtures.ts';

const reading = (seq: number): Reading => ({
  sensorId: 'wl-01', epoch: 0, seq, quantity: 'water_level', value: seq, unit: 'cm', ts: '2025-01-01T00:00:00.000Z', quality: 'good',
});
const ack = (batchId: string, stored: number, extra: Partial<Ack> = {}): Ack => ({ v: 1, batchId, stored, duplicates: 0, rejected: [], ...extra });

describe('BatchSender', () => {
  let dir: string;
  let cleanup: () => void;
  let db: GatewayDatabase;
  let queue: DiskQueue;
  let counters: GatewayCounters;
  let sent: { batchId: string; seqs: number[] }[];
  let mono: number;
  let publishOk: boolean;

  const make = (maxInFlight = 2, batchMaxReadings = 3) =>
    new BatchSender({
      queue, gatewayId: 'gw-1', batchMaxReadings, maxInFlight, ackTimeoutMs: 1000, counters, logger: quietLogger(),
      now: () => new Date('2025-01-01T00:00:00.000Z'),
      monoMs: () => mono,
      publish: async (payload) => {
        const batch = readingsBatchSchema.parse(JSON.parse(payload));
        sent.push({ batchId: batch.batchId, seqs: (batch.readings as Reading[]).map((r) => r.seq) });
        if (!publishOk) throw new Error('connection lost');
      },
    });

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    queue = new DiskQueue(db, { maxReadings: 1000 });
    counters = new GatewayCounters([]);
    sent = [];
    mono = 0;
    publishOk = true;
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('sends nothing offline; online, full batches at once and a partial one only when asked', () => {
    queue.append([1, 2, 3, 4].map(reading));
    const s = make();
    s.pump(true);
    expect(sent).toEqual([]);
    s.setOnline(true); // setOnline pumps partial batches too
    expect(sent).toEqual([{ batchId: '1-3', seqs: [1, 2, 3] }, { batchId: '4-4', seqs: [4] }]);
  });

  it('pump(false) waits for a full batch', () => {
    const s = make(4);
    queue.append([1, 2].map(reading));
    s.setOnline(true);
    sent.length = 0;
    queue.append([3, 4].map(reading));
    s.pump(false);
    expect(sent).toEqual([]);
    queue.append([5, 6].map(reading));
    s.pump(false);
    expect(sent).toEqual([{ batchId: '3-5', seqs: [3, 4, 5] }]);
  });

  it('keeps at most maxInFlight batches unacknowledged; an ack frees a place', async () => {
    queue.append([1, 2, 3, 4, 5, 6, 7, 8, 9].map(reading));
    const s = make(2);
    s.setOnline(true);
    expect(sent.map((b) => b.batchId)).toEqual(['1-3', '4-6']);
    s.onAck(ack('1-3', 3));
    expect(sent.map((b) => b.batchId)).toEqual(['1-3', '4-6', '7-9']);
    expect(queue.depth()).toBe(6);
    await Promise.resolve();
    expect(counters.published).toBe(9);
  });

  it('resends on ack timeout, with the same batch id', () => {
    queue.append([1, 2].map(reading));
    const s = make();
    s.setOnline(true);
    mono = 999;
    s.checkTimeouts();
    expect(sent).toHaveLength(1);
    mono = 1000;
    s.checkTimeouts();
    expect(sent.map((b) => b.batchId)).toEqual(['1-2', '1-2']);
    expect(counters.resentBatches).toBe(1);
  });

  it('on reconnect resends batches whose publish had settled', async () => {
    publishOk = false;
    queue.append([1].map(reading));
    const s = make();
    s.setOnline(true);
    await new Promise((r) => setImmediate(r));
    s.setOnline(false);
    publishOk = true;
    s.setOnline(true);
    expect(sent.map((b) => b.batchId)).toEqual(['1-1', '1-1']);
  });

  it('an ack for a batch of a previous run removes exactly that range', () => {
    queue.append([1, 2, 3, 4, 5].map(reading));
    const s = make();
    s.onAck(ack('2-3', 2));
    expect(queue.peekBatch(10).map((r) => r.reading.seq)).toEqual([1, 4, 5]);
    expect(counters.acked).toBe(2);
  });

  it('ignores and counts acks it cannot trust', () => {
    queue.append([1, 2, 3].map(reading));
    const s = make();
    s.setOnline(true);
    s.onAck(ack('abc', 3));
    s.onAck(ack('3-1', 3));
    s.onAck(ack('1-3', 2)); // covers fewer readings than queued
    expect(counters.badAcks).toBe(3);
    expect(queue.depth()).toBe(3);
    s.onAck(ack('1-3', 1, { duplicates: 1, rejected: [{ index: 2, reason: 'bad' }] }));
    expect(queue.depth()).toBe(0);
    expect(counters).toMatchObject({ acked: 2, rejectedByServer: 1 });
    s.onAck(ack('1-3', 3)); // a second ack for the same batch: nothing left, not an error
    expect(counters.badAcks).toBe(3);
  });

  it('forgets a batch whose rows were all dropped by the queue bound', () => {
    queue.append([1, 2].map(reading));
    const s = make();
    s.setOnline(true);
    queue.removeRange(1, 2);
    mono = 5000;
    s.checkTimeouts();
    expect(s.inFlightCount()).toBe(0);
    expect(sent).toHaveLength(1);
  });
});
