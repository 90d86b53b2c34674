import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openGatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { IngestStore } from '../../src/queue/ingest-store.ts';
import { SequenceTracker, decideSequence, type SeqDecision, type SequenceState } from '../../src/queue/sequence-tracker.ts';
import { TipCounters } from '../../src/queue/tip-counters.ts';
import { tempDir } from '../helpers/fixtures.ts';

/** Feeds raw seqs through the pure rule, returning each decision. */
function run(frames: (number | 'HEL')[], helloSeq = 0): SeqDecision[] {
  let state: SequenceState | undefined;
  return frames.map((f) => {
    const d = f === 'HEL' ? decideSequence('s', state, helloSeq, true) : decideSequence('s', state, f, false);
    if (d.kind === 'accept') state = d.next;
    return d;
  });
}
const keys = (ds: SeqDecision[]) => ds.map((d) => (d.kind === 'accept' ? [d.epoch, d.seq] : 'dup'));

describe('decideSequence', () => {
  it('starts at epoch 0 with the raw seq and grows by one without gaps', () => {
    const ds = run([5, 6, 7]);
    expect(keys(ds)).toEqual([[0, 5], [0, 6], [0, 7]]);
    expect(ds.map((d) => (d.kind === 'accept' ? d.gap : -1))).toEqual([0, 0, 0]);
  });

  it('unwraps 65535 -> 0 into a growing seq in the same epoch', () => {
    const ds = run([65534, 65535, 0, 1]);
    expect(keys(ds)).toEqual([[0, 65534], [0, 65535], [0, 65536], [0, 65537]]);
    expect(ds[2]).toMatchObject({ wrapped: true, gap: 0 });
  });

  it('counts a gap across a wrap', () => {
    const ds = run([65530, 2]);
    expect(ds[1]).toMatchObject({ kind: 'accept', epoch: 0, seq: 65538, gap: 7 });
  });

  it('a backwards jump that is not a wrap is a reboot: new epoch, seq restarts at the raw value', () => {
    const ds = run([100, 101, 3, 4]);
    expect(keys(ds)).toEqual([[0, 100], [0, 101], [1, 3], [1, 4]]);
    expect(ds[2]).toMatchObject({ epochChange: 'backwards', gap: 0 });
  });

  it('tells a wrap from a reboot by distance (more than half the range back is a wrap)', () => {
    expect(keys(run([40000, 7000]))).toEqual([[0, 40000], [0, 65536 + 7000]]); // 33000 back: a wrap
    expect(keys(run([40000, 8000]))).toEqual([[0, 40000], [1, 8000]]); // 32000 back: a reboot
  });

  it('a HEL always starts a new epoch, even with the same raw seq as before', () => {
    const ds = run([0, 1, 2, 'HEL', 1, 2]);
    expect(keys(ds)).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    expect(ds[3]).toMatchObject({ epochChange: 'hello' });
  });

  it('the same raw seq twice in an epoch is a duplicate frame', () => {
    const ds = run([10, 11, 11, 12]);
    expect(keys(ds)).toEqual([[0, 10], [0, 11], 'dup', [0, 12]]);
  });

  it('counts missing seqs as a gap', () => {
    const ds = run([1, 2, 6]);
    expect(ds[2]).toMatchObject({ seq: 6, gap: 3 });
  });
});

describe('SequenceTracker on disk', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it('continues the same epoch and unwrapped seq after a gateway restart', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'gw.sqlite');
    const open = () => {
      const db = openGatewayDatabase(file);
      const store = new IngestStore(db, new DiskQueue(db, { maxReadings: 1000 }), new SequenceTracker(db), new TipCounters(db));
      const feed = (raw: number, hello = false) => {
        const d = store.tracker.decide('s1', raw, hello);
        if (d.kind === 'accept') store.commit({ sequence: d, readings: [], tipUpdates: [] });
        return d;
      };
      return { db, feed };
    };
    let g = open();
    g.feed(0, true);
    g.feed(65535);
    g.feed(0); // wrap -> 65536
    g.feed(5, true); // HEL -> epoch 1
    g.feed(6);
    g.db.close();

    g = open();
    expect(g.feed(6)).toMatchObject({ kind: 'duplicate' });
    expect(g.feed(7)).toMatchObject({ kind: 'accept', epoch: 1, seq: 7, gap: 0 });
    g.db.close();

    g = open();
    // The epoch counter itself is durable: a later reboot without HEL goes on from epoch 1.
    expect(g.feed(1)).toMatchObject({ kind: 'accept', epoch: 2, seq: 1, epochChange: 'backwards' });
    g.db.close();
  });

  it('keeps wraps across restarts', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'gw.sqlite');
    for (const [raw, expected] of [
      [65535, 65535],
      [1, 65537],
      [65535, 131071],
      [0, 131072],
    ] as const) {
      const db = openGatewayDatabase(file);
      const tracker = new SequenceTracker(db);
      const store = new IngestStore(db, new DiskQueue(db, { maxReadings: 10 }), tracker, new TipCounters(db));
      const d = tracker.decide('s', raw, false);
      expect(d).toMatchObject({ kind: 'accept', epoch: 0, seq: expected });
      if (d.kind === 'accept') store.commit({ sequence: d, readings: [], tipUpdates: [] });
      db.close();
    }
  });
});
