/**
 * Turns a sensor's 16-bit wrapping sequence number into the durable idempotency key
 * (epoch, seq) that every published reading carries (readingSchema):
 * - the unwrapped seq only grows within an epoch: a fall of more than half the range is a wrap
 *   (+65536);
 * - a HEL frame (the sensor rebooted), or a fall that is not a wrap, starts a new epoch
 *   (epoch + 1; the unwrapped seq restarts at the raw seq), so a reboot never makes new data
 *   look like data the server already has;
 * - the same raw seq again within an epoch is a repeated frame: dropped;
 * - a forward jump of more than one is a gap: counted.
 * The sensor uses one counter for all its frame kinds (HEL, RDG, HBT, ERR, ACK), so every kind
 * is tracked. State lives in SQLite and is written in the same transaction as the readings.
 */
import { SEQ_MODULO } from '@kentongan/firmware-protocol';
import type { GatewayDatabase } from './database.ts';

/** A fall of more than half the sequence space is taken as a wrap, as in TCP sequence arithmetic. */
const HALF_RANGE = SEQ_MODULO / 2;

export interface SequenceState {
  epoch: number;
  lastRawSeq: number;
  wraps: number;
}

export type SeqDecision =
  | { kind: 'duplicate'; sensorId: string; rawSeq: number }
  | {
      kind: 'accept';
      sensorId: string;
      /** Key fields for readings of this frame. */
      epoch: number;
      seq: number;
      /** Sequence numbers skipped since the previous frame of the same epoch. */
      gap: number;
      /** Why the epoch is what it is: `first` sighting, `hello`, `backwards` jump, or `same`. */
      epochChange: 'first' | 'hello' | 'backwards' | 'same';
      wrapped: boolean;
      next: SequenceState;
    };

/** Pure rule: what a frame with `rawSeq` means given the previous state. */
export function decideSequence(sensorId: string, prev: SequenceState | undefined, rawSeq: number, isHello: boolean): SeqDecision {
  const fresh = (epoch: number, epochChange: 'first' | 'hello' | 'backwards'): SeqDecision => ({
    kind: 'accept',
    sensorId,
    epoch,
    seq: rawSeq,
    gap: 0,
    epochChange,
    wrapped: false,
    next: { epoch, lastRawSeq: rawSeq, wraps: 0 },
  });
  if (!prev) return fresh(0, 'first');
  if (isHello) return fresh(prev.epoch + 1, 'hello');
  if (rawSeq === prev.lastRawSeq) return { kind: 'duplicate', sensorId, rawSeq };
  let wraps = prev.wraps;
  let wrapped = false;
  if (rawSeq < prev.lastRawSeq) {
    if (prev.lastRawSeq - rawSeq <= HALF_RANGE) return fresh(prev.epoch + 1, 'backwards');
    wraps++;
    wrapped = true;
  }
  const prevSeq = prev.wraps * SEQ_MODULO + prev.lastRawSeq;
  const seq = wraps * SEQ_MODULO + rawSeq;
  return {
    kind: 'accept',
    sensorId,
    epoch: prev.epoch,
    seq,
    gap: seq - prevSeq - 1,
    epochChange: 'same',
    wrapped,
    next: { epoch: prev.epoch, lastRawSeq: rawSeq, wraps },
  };
}

export class SequenceTracker {
  private readonly states = new Map<string, SequenceState>();
  private readonly upsert;

  constructor(db: GatewayDatabase) {
    const rows = db.prepare('SELECT sensor_id, epoch, last_raw_seq, wraps FROM sensor_sequence').all() as {
      sensor_id: string;
      epoch: number;
      last_raw_seq: number;
      wraps: number;
    }[];
    for (const r of rows) this.states.set(r.sensor_id, { epoch: r.epoch, lastRawSeq: r.last_raw_seq, wraps: r.wraps });
    this.upsert = db.prepare(
      `INSERT INTO sensor_sequence (sensor_id, epoch, last_raw_seq, wraps) VALUES (?, ?, ?, ?)
       ON CONFLICT (sensor_id) DO UPDATE SET epoch = excluded.epoch, last_raw_seq = excluded.last_raw_seq, wraps = excluded.wraps`,
    );
  }

  /** Classifies a frame without changing anything. */
  decide(sensorId: string, rawSeq: number, isHello: boolean): SeqDecision {
    return decideSequence(sensorId, this.states.get(sensorId), rawSeq, isHello);
  }

  /** Writes the decision's state to the database; call inside the transaction that appends the readings. */
  persist(d: Extract<SeqDecision, { kind: 'accept' }>): void {
    this.upsert.run(d.sensorId, d.next.epoch, d.next.lastRawSeq, d.next.wraps);
  }

  /** Makes the decision current in memory; call after the transaction committed. */
  apply(d: Extract<SeqDecision, { kind: 'accept' }>): void {
    this.states.set(d.sensorId, d.next);
  }

  state(sensorId: string): SequenceState | undefined {
    return this.states.get(sensorId);
  }
}
