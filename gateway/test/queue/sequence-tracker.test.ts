/**
 * The sequence rule itself is tested by firmware-protocol's vectors (vectors/sequence.json); these
 * tests cover what the gateway adds: the state on disk, the clock as epoch seed, and the decision
 * shape the driver and the ingest store use.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { openGatewayDatabase, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { IngestStore } from '../../src/queue/ingest-store.ts';
import { SequenceTracker, epochSeedOf, type AcceptedSeq, type SeqDecision } from '../../src/queue/sequence-tracker.ts';
import { TipCounters } from '../../src/queue/tip-counters.ts';
import { tempDir } from '../helpers/fixtures.ts';

const T0 = new Date('2025-02-03T04:05:06.789Z');
const S0 = Math.floor(T0.getTime() / 1000); // 1738555506
const later = (s: number) => new Date(T0.getTime() + s * 1000);

describe('epochSeedOf', () => {
  it('is the clock in whole UTC seconds', () => {
    expect(epochSeedOf(T0)).toBe(1738555506);
  });

  it('falls back to 0 (plain epoch + 1) for a clock before 1970 or an invalid date', () => {
    expect(epochSeedOf(new Date(-5000))).toBe(0);
    expect(epochSeedOf(new Date(Number.NaN))).toBe(0);
  });
});

describe('SequenceTracker on disk', () => {
  let dir: string;
  let cleanup: () => void;
  let db: GatewayDatabase | undefined;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => {
    db?.close();
    db = undefined;
    cleanup();
  });

  /** Opens (or reopens: a gateway restart) the database in `file` with the given clock. */
  function open(clock: Date, file = join(dir, 'gw.sqlite')) {
    db?.close();
    const d = openGatewayDatabase(file);
    db = d;
    const store = new IngestStore(d, new DiskQueue(d, { maxReadings: 1000 }), new SequenceTracker(d, () => clock), new TipCounters(d));
    const feed = (raw: number, hello = false): SeqDecision => {
      const decision = store.tracker.decide('s1', raw, hello);
      if (decision.kind === 'accept') store.commit({ sequence: decision, readings: [], tipUpdates: [] });
      return decision;
    };
    return { db: d, store, feed };
  }

  it('keys a sensor seen for the first time at the clock seed and reports gaps and wraps', () => {
    const g = open(T0);
    expect(g.feed(65534, true)).toEqual({
      kind: 'accept',
      sensorId: 's1',
      epoch: S0,
      seq: 65534,
      gap: 0,
      event: 'first',
      next: { epoch: S0, lastSeq: 65534, unwrapped: 65534 },
    });
    expect(g.feed(2)).toMatchObject({ kind: 'accept', epoch: S0, seq: 65538, gap: 3, event: 'wrap' });
    expect(g.feed(2)).toEqual({ kind: 'duplicate', sensorId: 's1', rawSeq: 2 });
    expect(g.feed(3)).toMatchObject({ kind: 'accept', epoch: S0, seq: 65539, gap: 0, event: 'next' });
  });

  it('continues the same epoch and unwrapped seq after a gateway restart, wraps included', () => {
    let g = open(T0);
    g.feed(0, true);
    g.feed(65535);
    g.feed(1); // wrap: 65537
    g = open(later(60));
    expect(g.feed(1)).toMatchObject({ kind: 'duplicate' });
    expect(g.feed(40000)).toMatchObject({ kind: 'accept', epoch: S0, seq: 65536 + 40000, gap: 39998, event: 'gap' });
    g = open(later(120));
    // 40000 -> 5 falls by more than half the range: the second wrap, counted from the stored state.
    expect(g.feed(5)).toMatchObject({ kind: 'accept', epoch: S0, seq: 2 * 65536 + 5, gap: 25540, event: 'wrap' });
    expect(g.store.tracker.state('s1')).toEqual({ epoch: S0, lastSeq: 5, unwrapped: 2 * 65536 + 5 });
    expect(g.db.prepare('SELECT epoch, last_raw_seq, wraps FROM sensor_sequence').get()).toEqual({ epoch: S0, last_raw_seq: 5, wraps: 2 });
  });

  it('a HEL after a restart gives a new, larger epoch: the clock seed, or epoch + 1 if the clock did not move on', () => {
    let g = open(T0);
    g.feed(0, true);
    g.feed(1);
    g = open(later(3600));
    expect(g.feed(0, true)).toMatchObject({ kind: 'accept', epoch: S0 + 3600, seq: 0, event: 'hello' });
    // A clock that went backwards (no RTC, no NTP yet) still cannot lower the epoch.
    g = open(T0);
    expect(g.feed(0, true)).toMatchObject({ kind: 'accept', epoch: S0 + 3601, seq: 0, event: 'hello' });
    // A reboot whose HEL was lost (backwards jump) is a new epoch too, and it is durable.
    g.feed(50);
    g = open(T0);
    expect(g.feed(7)).toMatchObject({ kind: 'accept', epoch: S0 + 3602, seq: 7, event: 'restart' });
  });

  it('a gateway with a fresh empty database and a later clock starts above every epoch it gave before', () => {
    const old = open(T0, join(dir, 'old-card.sqlite'));
    const given: number[] = [];
    for (const [raw, hello] of [[0, true], [1, false], [0, true], [0, true], [3, false], [1, false]] as const) {
      const d = old.feed(raw, hello);
      if (d.kind === 'accept') given.push(d.epoch);
    }
    expect(Math.max(...given)).toBe(S0 + 3); // three new epochs within the same second
    // The SD card is replaced: no state at all, the same sensor keeps counting from where it was.
    const fresh = open(later(60), join(dir, 'new-card.sqlite'));
    const d = fresh.feed(2);
    expect(d).toMatchObject({ kind: 'accept', event: 'first', seq: 2 });
    expect(d.kind === 'accept' && d.epoch).toBe(S0 + 60);
    expect(S0 + 60).toBeGreaterThan(Math.max(...given));
  });

  it('continues the state an older gateway (epochs from 0) wrote to an existing database', () => {
    const file = join(dir, 'gw.sqlite');
    const d = openGatewayDatabase(file);
    d.prepare('INSERT INTO sensor_sequence (sensor_id, epoch, last_raw_seq, wraps) VALUES (?, ?, ?, ?)').run('s1', 3, 5, 2);
    d.close();
    const g = open(T0, file);
    expect(g.store.tracker.state('s1')).toEqual({ epoch: 3, lastSeq: 5, unwrapped: 2 * 65536 + 5 });
    expect(g.feed(6)).toMatchObject({ kind: 'accept', epoch: 3, seq: 2 * 65536 + 6, event: 'next' });
    expect(g.feed(0, true)).toMatchObject({ kind: 'accept', epoch: S0, seq: 0, event: 'hello' });
    const row = g.db.prepare('SELECT epoch, last_raw_seq, wraps FROM sensor_sequence WHERE sensor_id = ?').get('s1');
    expect(row).toEqual({ epoch: S0, last_raw_seq: 0, wraps: 0 });
  });

  it('refuses to persist a state whose unwrapped seq does not match its raw seq, and keeps the old one', () => {
    const g = open(T0);
    g.feed(10);
    const bad: AcceptedSeq = {
      kind: 'accept',
      sensorId: 's1',
      epoch: S0,
      seq: 11,
      gap: 0,
      event: 'next',
      next: { epoch: S0, lastSeq: 11, unwrapped: 12 },
    };
    expect(() => g.store.commit({ sequence: bad, readings: [], tipUpdates: [] })).toThrow(GatewayError);
    expect(g.store.tracker.state('s1')).toEqual({ epoch: S0, lastSeq: 10, unwrapped: 10 });
    g.db.close();
    db = undefined;
    expect(open(T0).store.tracker.state('s1')).toEqual({ epoch: S0, lastSeq: 10, unwrapped: 10 });
  });
});
