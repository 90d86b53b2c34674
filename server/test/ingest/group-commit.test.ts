/**
 * GroupCommitter on a real SQLite store (temp folder): when a flush happens (thresholds, timer,
 * stop), what one flush reports, and that failures are reported and never thrown.
 */
import { readingSchema, type Reading } from '@kentongan/firmware-protocol';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.ts';
import { GroupCommitter, type FlushOutcome, type GroupCommitOptions } from '../../src/ingest/group-commit.ts';
import { openDatabase } from '../../src/storage/database.ts';
import type { BatchToStore } from '../../src/storage/reading-store.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { tempDir, wl } from '../helpers/fixtures.ts';
import { settle, waitFor } from '../helpers/mqtt.ts';

const at = new Date('2025-01-09T09:00:00.000Z');
const readings = (from: number, count: number): Reading[] =>
  Array.from({ length: count }, (_, i) => readingSchema.parse(wl(from + i, 10)));

describe('GroupCommitter', () => {
  let db: Database.Database;
  let store: SqliteReadingStore;
  let cleanup: () => Promise<void>;
  let flushes: FlushOutcome<string>[][];
  let groupFailures: number;
  let handlerErrors: unknown[];
  /** Calls that reached the store (a pass-through that counts, the writes are real). */
  let storeCalls: number[];
  let committer: GroupCommitter<string> | null;

  beforeEach(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    db = openDatabase(tmp.dir);
    store = new SqliteReadingStore(db);
    flushes = [];
    groupFailures = 0;
    handlerErrors = [];
    storeCalls = [];
    committer = null;
  });
  afterEach(async () => {
    committer?.stop();
    if (db.open) db.close();
    await cleanup();
  });

  const make = (options: GroupCommitOptions, onFlushed?: (o: FlushOutcome<string>[]) => void) =>
    (committer = new GroupCommitter<string>(
      {
        insertBatches: (batches: readonly BatchToStore[]) => {
          storeCalls.push(batches.length);
          return store.insertBatches(batches);
        },
      },
      {
        onFlushed: onFlushed ?? ((o) => flushes.push(o)),
        onGroupFailed: () => groupFailures++,
        onHandlerError: (err) => handlerErrors.push(err),
      },
      options,
    ));

  it('flushes inside enqueue once the queue holds maxReadings readings, and the timer does not fire after', async () => {
    const c = make({ maxReadings: 50, maxBatches: 100, maxDelayMs: 30 });
    c.enqueue('gw-a', readings(1, 20), at, 'b1');
    c.enqueue('gw-a', readings(21, 20), at, 'b2');
    expect(flushes).toHaveLength(0);
    expect(c.pending).toBe(2);
    c.enqueue('gw-a', readings(41, 20), at, 'b3');
    expect(flushes).toHaveLength(1);
    expect(c.pending).toBe(0);
    expect(flushes[0]!.map((o) => [o.batch.tag, o.ok && o.result.stored.length])).toEqual([
      ['b1', 20],
      ['b2', 20],
      ['b3', 20],
    ]);
    expect(storeCalls).toEqual([3]); // one transaction for the three
    await settle(80);
    expect(flushes).toHaveLength(1);
    expect(store.count()).toBe(60);
  });

  it('flushes at maxBatches, however small the batches', () => {
    const c = make({ maxReadings: 1000, maxBatches: 2, maxDelayMs: 600_000 });
    c.enqueue('gw-a', readings(1, 1), at, 'b1');
    c.enqueue('gw-b', readings(2, 1), at, 'b2');
    c.enqueue('gw-a', readings(3, 1), at, 'b3');
    expect(flushes.map((f) => f.map((o) => o.batch.tag))).toEqual([['b1', 'b2']]);
    expect(c.pending).toBe(1);
  });

  it('flushes a lone batch after maxDelayMs, and with 0 on the next turn of the event loop', async () => {
    const c = make({ maxDelayMs: 25 });
    c.enqueue('gw-a', readings(1, 3), at, 'late');
    expect(flushes).toHaveLength(0);
    await waitFor(() => flushes.length === 1, 2000, 'timer flush');
    expect(store.count()).toBe(3);

    const zero = make({ maxDelayMs: 0 });
    zero.enqueue('gw-a', readings(4, 1), at, 'a');
    zero.enqueue('gw-a', readings(5, 1), at, 'b');
    expect(flushes).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(flushes.map((f) => f.map((o) => o.batch.tag))).toEqual([['late'], ['a', 'b']]);
  });

  it('stop() writes what is queued, then every batch at once; flush() on an empty queue does nothing', () => {
    const c = make({ maxDelayMs: 600_000 });
    c.flush();
    expect(flushes).toHaveLength(0);
    c.enqueue('gw-a', readings(1, 2), at, 'q');
    c.stop();
    expect(flushes.map((f) => f.map((o) => o.batch.tag))).toEqual([['q']]);
    c.enqueue('gw-a', readings(3, 1), at, 'after');
    expect(flushes).toHaveLength(2);
    expect(store.count()).toBe(3);
  });

  it('reports a failed single batch without retrying it, and a failed group batch by batch', () => {
    const c = make({ maxDelayMs: 600_000 });
    db.pragma('query_only = ON');
    c.enqueue('gw-a', readings(1, 1), at, 'alone');
    c.flush();
    expect(flushes[0]).toMatchObject([{ ok: false, batch: { tag: 'alone' } }]);
    expect(storeCalls).toEqual([1]);
    c.enqueue('gw-a', readings(1, 1), at, 'x');
    c.enqueue('gw-a', readings(2, 1), at, 'y');
    c.flush();
    expect(flushes[1]!.map((o) => o.ok)).toEqual([false, false]);
    expect(storeCalls).toEqual([1, 2, 1, 1]); // the group, then each alone
    expect(groupFailures).toBe(2);
    expect(store.count()).toBe(0);
  });

  it('keeps a reading carried by two batches of one flush once, as a duplicate of the second', () => {
    const c = make({ maxDelayMs: 600_000 });
    c.enqueue('gw-a', readings(1, 3), at, 'first');
    c.enqueue('gw-b', readings(2, 3), at, 'second');
    c.flush();
    expect(flushes[0]!.map((o) => (o.ok ? [o.result.stored.map((r) => r.seq), o.result.duplicates] : null))).toEqual([
      [[1, 2, 3], 0],
      [[4], 2],
    ]);
    // Sequence statistics across both batches of the transaction: seqs 1..4, no gap.
    expect(store.sequenceStats('wl-1')).toMatchObject([{ minSeq: 1, maxSeq: 4, received: 4, gaps: 0 }]);
  });

  it('reports a throwing handler instead of throwing from a timer, and a batch queued from the handler waits for its own flush', async () => {
    let first = true;
    const c = make({ maxDelayMs: 10 }, (o) => {
      flushes.push(o);
      if (first) {
        first = false;
        c.enqueue('gw-a', readings(10, 1), at, 'from-handler');
        throw new Error('handler bug');
      }
    });
    c.enqueue('gw-a', readings(1, 1), at, 'one');
    await waitFor(() => flushes.length === 2, 2000, 'second flush');
    expect(flushes.map((f) => f.map((o) => o.batch.tag))).toEqual([['one'], ['from-handler']]);
    expect(handlerErrors).toHaveLength(1);
    expect(String(handlerErrors[0])).toContain('handler bug');
  });

  it('after stop(), a batch queued from the handler is written at once too', () => {
    let again = true;
    const c = make({ maxDelayMs: 600_000 }, (o) => {
      flushes.push(o);
      if (again) {
        again = false;
        c.enqueue('gw-a', readings(2, 1), at, 'from-handler');
      }
    });
    c.enqueue('gw-a', readings(1, 1), at, 'queued');
    c.stop();
    expect(flushes.map((f) => f.map((o) => o.batch.tag))).toEqual([['queued'], ['from-handler']]);
    expect(c.pending).toBe(0);
    expect(store.count()).toBe(2);
  });

  it('refuses nonsensical options with a stable code', () => {
    for (const bad of [{ maxReadings: 0 }, { maxBatches: 1.5 }, { maxDelayMs: -1 }, { maxDelayMs: Number.NaN }, { maxDelayMs: 2 ** 31 }]) {
      let caught: unknown;
      try {
        make(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ServerError);
      expect((caught as ServerError).code).toBe('INGEST_OPTION_INVALID');
    }
  });
});
