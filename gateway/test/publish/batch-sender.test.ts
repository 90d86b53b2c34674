import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readingsBatchSchema, type Ack, type Reading } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchSender } from '../../src/publish/batch-sender.ts';
import { openGatewayDatabase, readQueueId, type GatewayDatabase } from '../../src/queue/database.ts';
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
  let q: string;
  /** A batch id of this queue. */
  const id = (range: string) => `${q}:${range}`;

  const make = (maxInFlight = 2, batchMaxReadings = 3, gatewayId = 'gw-1') =>
    new BatchSender({
      queue, queueId: readQueueId(db), gatewayId, batchMaxReadings, maxInFlight, ackTimeoutMs: 1000, counters, logger: quietLogger(),
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
    q = readQueueId(db);
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
    expect(sent).toEqual([{ batchId: id('1-3'), seqs: [1, 2, 3] }, { batchId: id('4-4'), seqs: [4] }]);
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
    expect(sent).toEqual([{ batchId: id('3-5'), seqs: [3, 4, 5] }]);
  });

  it('keeps at most maxInFlight - 1 backlog batches unacknowledged (one place stays for live); an ack frees a place', async () => {
    queue.append([1, 2, 3, 4, 5, 6, 7, 8, 9].map(reading));
    const s = make(3);
    s.setOnline(true);
    // The newest batch (7-9) goes live; the older rows replay oldest first in the other two places.
    expect(sent.map((b) => b.batchId)).toEqual([id('7-9'), id('1-3'), id('4-6')]);
    queue.append([10, 11, 12].map(reading));
    s.pump(true);
    expect(sent).toHaveLength(3); // all three places taken
    s.onAck(ack(id('1-3'), 3));
    expect(sent.map((b) => b.batchId)).toEqual([id('7-9'), id('1-3'), id('4-6'), id('10-12')]);
    expect(queue.depth()).toBe(9);
    await Promise.resolve();
    expect(counters.published).toBe(12);
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
    expect(sent.map((b) => b.batchId)).toEqual([id('1-2'), id('1-2')]);
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
    expect(sent.map((b) => b.batchId)).toEqual([id('1-1'), id('1-1')]);
  });

  it('batch ids are <queueId>:<first>-<last>, the queue id made once per database file', () => {
    expect(q).toMatch(/^[0-9a-f]{8}$/);
    queue.append([1].map(reading));
    make().setOnline(true);
    expect(sent[0]!.batchId).toBe(`${q}:1-1`);
    db.close();
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    expect(readQueueId(db)).toBe(q); // the same file keeps its queue id
  });

  it('an ack for a batch of a previous run removes exactly that range', () => {
    queue.append([1, 2, 3, 4, 5].map(reading));
    const s = make();
    s.onAck(ack(id('2-3'), 2));
    expect(queue.peekBatch(10).map((r) => r.reading.seq)).toEqual([1, 4, 5]);
    expect(counters.acked).toBe(2);
  });

  it('a stale ack for a lost database (new file, row ids from 1 again) removes nothing', () => {
    // The old SD card: batch 1-3 sent, its ack kept by the broker while the gateway was away.
    queue.append([1, 2, 3].map(reading));
    make().setOnline(true);
    const oldBatchId = sent[0]!.batchId;
    db.close();
    // A new card: a fresh database whose first rows are ids 1-3 again, holding other readings.
    db = openGatewayDatabase(join(dir, 'new-card.sqlite'));
    queue = new DiskQueue(db, { maxReadings: 1000 });
    expect(readQueueId(db)).not.toBe(q);
    expect(queue.append([101, 102, 103].map(reading))).toEqual([1, 2, 3]);
    const s = make();
    s.onAck(ack(oldBatchId, 3));
    s.onAck(ack('1-3', 3)); // the id form of gateways before the queue id: stale too
    expect(queue.depth()).toBe(3);
    expect(counters).toMatchObject({ staleAcks: 2, badAcks: 0, acked: 0 });
    s.setOnline(true);
    s.onAck(ack(sent.at(-1)!.batchId, 3)); // this queue's own ack still works
    expect(queue.depth()).toBe(0);
    expect(counters.acked).toBe(3);
  });

  it('an existing version-1 database is migrated and gets a queue id; its rows are kept', () => {
    db.close();
    const file = join(dir, 'v1.sqlite');
    const v1 = new Database(file);
    v1.exec(`CREATE TABLE readings (id INTEGER PRIMARY KEY AUTOINCREMENT, enqueued_ms INTEGER NOT NULL, reading TEXT NOT NULL);
      CREATE TABLE sensor_sequence (sensor_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, last_raw_seq INTEGER NOT NULL, wraps INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE tip_counter (sensor_id TEXT NOT NULL, channel TEXT NOT NULL, last_counter INTEGER NOT NULL, PRIMARY KEY (sensor_id, channel)) WITHOUT ROWID;
      PRAGMA user_version = 1;`);
    v1.prepare('INSERT INTO readings (enqueued_ms, reading) VALUES (0, ?)').run(JSON.stringify(reading(7)));
    v1.close();
    db = openGatewayDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    const migrated = readQueueId(db);
    expect(migrated).toMatch(/^[0-9a-f]{8}$/);
    expect(new DiskQueue(db, { maxReadings: 10 }).peekBatch(10).map((r) => r.reading.seq)).toEqual([7]);
    db.close();
    db = openGatewayDatabase(file);
    expect(readQueueId(db)).toBe(migrated);
  });

  it('validates each reading before publishing: an invalid queued one is dropped, counted, and blocks nothing', async () => {
    queue.append([1].map(reading));
    // Crafted straight into the file, as only a gateway bug (or a damaged file) could write it.
    const insert = db.prepare('INSERT INTO readings (enqueued_ms, reading) VALUES (0, ?)');
    insert.run(JSON.stringify({ ...reading(2), quantity: 'speed' }));
    insert.run(JSON.stringify({ ...reading(3), extra: true }));
    queue.resync();
    queue.append([4].map(reading));
    const s = make(2, 3);
    s.setOnline(true);
    expect(sent).toEqual([{ batchId: id('1-3'), seqs: [1] }, { batchId: id('4-4'), seqs: [4] }]);
    expect(counters.invalidReadings).toBe(2);
    expect(queue.depth()).toBe(2);
    s.onAck(ack(id('1-3'), 1)); // covers the one valid reading left in the range
    s.onAck(ack(id('4-4'), 1));
    expect(queue.depth()).toBe(0);
    expect(counters).toMatchObject({ acked: 2, badAcks: 0 });
  });

  it('a batch made only of invalid readings is not sent and the next batch goes out', () => {
    const insert = db.prepare('INSERT INTO readings (enqueued_ms, reading) VALUES (0, ?)');
    for (let i = 0; i < 3; i++) insert.run(JSON.stringify({ ...reading(i), unit: 'furlong' }));
    queue.resync();
    queue.append([9].map(reading));
    const s = make(1, 3);
    s.setOnline(true);
    expect(sent).toEqual([{ batchId: id('4-4'), seqs: [9] }]);
    expect(counters.invalidReadings).toBe(3);
    expect(s.inFlightCount()).toBe(1);
  });

  it('does not publish a batch whose envelope fails the schema, keeps its readings and counts it', () => {
    queue.append([1, 2].map(reading));
    const s = make(2, 3, 'not a gateway id'); // only reachable by a bug: config validation refuses it
    s.setOnline(true);
    expect(sent).toEqual([]);
    expect(counters.invalidBatches).toBe(1);
    expect(queue.depth()).toBe(2);
  });

  it('ignores and counts acks it cannot trust', () => {
    queue.append([1, 2, 3].map(reading));
    const s = make();
    s.setOnline(true);
    s.onAck(ack('abc', 3));
    s.onAck(ack(id('3-1'), 3));
    s.onAck(ack(`${q.toUpperCase()}:1-3`, 3)); // not the grammar (queue ids are lower-case)
    s.onAck(ack(id('1-3'), 2)); // covers fewer readings than queued
    expect(counters.badAcks).toBe(4);
    expect(queue.depth()).toBe(3);
    s.onAck(ack(id('1-3'), 1, { duplicates: 1, rejected: [{ index: 2, reason: 'bad' }] }));
    expect(queue.depth()).toBe(0);
    expect(counters).toMatchObject({ acked: 2, rejectedByServer: 1 });
    s.onAck(ack(id('1-3'), 3)); // a second ack for the same batch: nothing left, not an error
    expect(counters.badAcks).toBe(4);
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
