/**
 * Commits what one sensor frame produced: its readings, the sequence-tracker state and the
 * tipping-bucket counters, in ONE transaction. A crash therefore leaves either all of it or
 * none: never readings without the state that keys them, never a counter advanced for tips
 * that were not queued (which would lose rain) or readings queued with a stale counter (which
 * would count rain twice after a restart). The readings' timestamps pass SensorClock first
 * (monotonic per sensor, clamped and counted when the clock went back), in the same transaction.
 */
import type { Reading } from '@kentongan/firmware-protocol';
import { GatewayError } from '../errors.ts';
import type { GatewayDatabase } from './database.ts';
import type { DiskQueue } from './disk-queue.ts';
import { SensorClock } from './sensor-clock.ts';
import type { AcceptedSeq, SequenceTracker } from './sequence-tracker.ts';
import type { TipCounters, TipUpdate } from './tip-counters.ts';

export interface FrameCommit {
  sequence: AcceptedSeq;
  readings: Reading[];
  tipUpdates: TipUpdate[];
}

export class IngestStore {
  private readonly tx;
  /** Per-sensor monotonic timestamps (clamp and flag); optional so older callers keep working. */
  readonly clock: SensorClock;

  constructor(
    db: GatewayDatabase,
    readonly queue: DiskQueue,
    readonly tracker: SequenceTracker,
    readonly tips: TipCounters,
    clock?: SensorClock,
  ) {
    this.clock = clock ?? new SensorClock(db);
    this.tx = db.transaction((c: FrameCommit, clockUpdates: ReadonlyMap<string, number>) => {
      this.queue.append(c.readings);
      this.tracker.persist(c.sequence);
      this.tips.persist(c.tipUpdates);
      this.clock.persist(clockUpdates);
    });
  }

  /** Commits durably, then updates the in-memory state. Throws GatewayError('store_failed') if the disk refused. */
  commit(c: FrameCommit): void {
    const stamped = this.clock.stamp(c.readings);
    try {
      this.tx({ ...c, readings: stamped.readings }, stamped.updates);
    } catch (err) {
      this.queue.resync();
      throw new GatewayError('store_failed', `could not store frame of ${c.sequence.sensorId}: ${(err as Error).message}`, { cause: err });
    }
    this.tracker.apply(c.sequence);
    this.tips.apply(c.tipUpdates);
    this.clock.apply(stamped.updates);
  }
}
