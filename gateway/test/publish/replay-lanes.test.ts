import { join } from 'node:path';
import { readingsBatchSchema, type Reading } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchSender } from '../../src/publish/batch-sender.ts';
import { openGatewayDatabase, readQueueId, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { GatewayCounters } from '../../src/stats.ts';
import { quietLogger, tempDir } from '../helpers/fixtures.ts';

const reading = (seq: number): Reading => ({
  sensorId: 'wl-01', epoch: 0, seq, quantity: 'water_level', value: seq, unit: 'cm', ts: '2025-01-01T00:00:00.000Z', quality: 'good',
});
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => reading(from + i));

describe('BatchSender: replay lane and live lane', () => {
  let cleanup: () => void;
  let db: GatewayDatabase;
  let queue: DiskQueue;
  let counters: GatewayCounters;
  let sent: { batchId: string; seqs: number[] }[];

  const make = (o: { maxInFlight: number; batch: number; liveLag?: number; rate?: number; publish?: (batchId: string) => void }) =>
    new BatchSender({
      queue, queueId: readQueueId(db), gatewayId: 'gw-1', batchMaxReadings: o.batch, maxInFlight: o.maxInFlight, ackTimeoutMs: 60_000,
      counters, logger: quietLogger(), now: () => new Date(), liveLagReadings: o.liveLag, replayMaxBatchesPerS: o.rate,
      publish: async (payload) => {
        const batch = readingsBatchSchema.parse(JSON.parse(payload));
        sent.push({ batchId: batch.batchId, seqs: (batch.readings as Reading[]).map((r) => r.seq) });
        o.publish?.(batch.batchId);
      },
    });
  const ackOf = (s: BatchSender, batchId: string) => {
    const n = sent.find((b) => b.batchId === batchId)!.seqs.length;
    s.onAck({ v: 1, batchId, stored: n, duplicates: 0, rejected: [] });
  };

  beforeEach(() => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    queue = new DiskQueue(db, { maxReadings: 1_000_000 });
    counters = new GatewayCounters([]);
    sent = [];
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('a live reading goes out at once while a large backlog replays oldest first in the other places', () => {
    queue.append(range(0, 10_000)); // the backlog of an outage
    const s = make({ maxInFlight: 4, batch: 100, liveLag: 200 });
    s.setOnline(true);
    // The newest batch goes first on the live lane; three places for the backlog, oldest first.
    expect(sent.map((b) => b.seqs[0])).toEqual([9900, 0, 100, 200]);
    expect(s.lanes()).toMatchObject({ inFlightReplay: 3, inFlightLive: 1 });
    expect(s.lanes().replayBacklog).toBe(9900 - 300);
    ackOf(s, sent[0]!.batchId); // the live batch

    queue.append([reading(50_000)]); // a live reading arrives mid-replay
    s.pump(true);
    expect(sent.at(-1)!.seqs).toEqual([50_000]);
    expect(s.lanes()).toMatchObject({ inFlightReplay: 3, inFlightLive: 1 });

    // The backlog goes on, oldest first, one batch per ack; the live place stays its own.
    ackOf(s, sent[1]!.batchId);
    expect(sent.at(-1)!.seqs[0]).toBe(300);
    ackOf(s, sent.at(-2)!.batchId); // the live batch
    queue.append([reading(50_001)]);
    s.pump(true);
    expect(sent.at(-1)!.seqs).toEqual([50_001]);
  });

  it('delivers every row exactly once across both lanes, backlog strictly oldest first', () => {
    queue.append(range(0, 2_000));
    const acked: string[] = [];
    const s = make({ maxInFlight: 3, batch: 70, liveLag: 150, publish: (id) => acked.push(id) });
    s.setOnline(true);
    let next = 100_000;
    for (let round = 0; round < 200 && queue.depth() > 0; round++) {
      // Live readings keep arriving while the backlog drains.
      if (round % 3 === 0) queue.append([reading(next++)]);
      const id = acked.shift();
      if (id) ackOf(s, id);
      s.pump(true);
    }
    while (acked.length > 0) ackOf(s, acked.shift()!);
    s.pump(true);
    while (acked.length > 0) ackOf(s, acked.shift()!);
    expect(queue.depth()).toBe(0);
    const all = sent.flatMap((b) => b.seqs);
    expect(new Set(all).size).toBe(all.length); // nothing twice
    expect(all.length).toBe(2_000 + (next - 100_000));
    // The newest batch at start (rows 1930-1999) went live; the rest replayed oldest first.
    const backlog = all.filter((x) => x < 1930);
    expect(backlog).toHaveLength(1930);
    expect(backlog).toEqual([...backlog].sort((a, b) => a - b));
  });

  it('readings queued after start but before the first connection stay live', () => {
    queue.append(range(0, 1000)); // left by the previous run
    const s = make({ maxInFlight: 2, batch: 50, liveLag: 100 });
    queue.append([reading(7777)]); // arrives while the gateway is still connecting
    s.setOnline(true);
    // Live first: the newest batch of the old rows, then the new reading (both places taken).
    expect(sent.map((b) => b.seqs[0])).toEqual([950, 7777]);
    ackOf(s, sent[1]!.batchId);
    expect(sent[2]!.seqs[0]).toBe(0); // the backlog starts with the oldest
  });

  it('a live lane that falls behind (outage while online) is moved to the backlog', () => {
    const s = make({ maxInFlight: 2, batch: 10, liveLag: 30 });
    s.setOnline(true);
    queue.append(range(0, 5));
    s.pump(true);
    expect(sent).toHaveLength(1);
    s.setOnline(false);
    queue.append(range(5, 100)); // queued while the link was down
    s.setOnline(true);
    expect(s.lanes().replayBacklog).toBeGreaterThan(0);
    // After the reconnect the freshest readings went first, on the live lane.
    const freshest = sent.find((b) => b.seqs.includes(104))!;
    expect(freshest.seqs).toEqual(range(95, 10).map((r) => r.seq));
    ackOf(s, sent[0]!.batchId); // the live lane's batch from before the outage
    ackOf(s, freshest.batchId);
    queue.append([reading(1000)]);
    s.pump(true);
    // The newest reading is not stuck behind the 100 queued while offline.
    expect(sent.some((b) => b.seqs.includes(1000))).toBe(true);
  });

  it('paces the backlog to replayMaxBatchesPerS', async () => {
    queue.append(range(0, 5_000));
    let s!: BatchSender;
    // The "server" acks at once, so only the pacing holds the replay back.
    s = make({ maxInFlight: 8, batch: 10, liveLag: 10, rate: 40, publish: (id) => queueMicrotask(() => ackOf(s, id)) });
    s.setOnline(true);
    await new Promise((r) => setTimeout(r, 500));
    s.close();
    // 40 batches/s for 0.5 s: about 20 (+1 burst); unpaced it would have sent all 500.
    expect(sent.length).toBeGreaterThanOrEqual(12);
    expect(sent.length).toBeLessThanOrEqual(23);
  });
});
