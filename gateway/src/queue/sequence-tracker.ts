/**
 * Keeps each sensor's sequence state and turns every frame's 16-bit wrapping sequence number
 * into the durable idempotency key (epoch, seq) that its readings carry (readingSchema).
 * The rule itself is `advanceSequence` from @kentongan/firmware-protocol (SPEC.md §5.4, vectors
 * in vectors/sequence.json); this class only loads the state from SQLite, asks the rule, and
 * writes the new state in the same transaction as the readings it keyed.
 *
 * The epoch seed is the gateway clock in whole UTC seconds: a sensor seen for the first time
 * starts at it, and a new epoch is max(epoch + 1, seed). A gateway whose database was lost
 * (new SD card) therefore starts above every epoch it handed out before, as long as its clock
 * is roughly right, and the server never takes its new readings for duplicates.
 */
import { SEQ_MODULO, advanceSequence, type SequenceEvent, type SequenceState } from '@kentongan/firmware-protocol';
import type { GatewayDatabase } from './database.ts';

/** What the tracker decided for one frame; `accept` carries the state to persist and apply. */
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
      /** How the frame relates to the previous one (SPEC.md §5.4); `restart` = a boot whose HEL was lost. */
      event: Exclude<SequenceEvent, 'duplicate'>;
      next: SequenceState;
    };

/** The accepted decision, as the ingest store commits it. */
export type AcceptedSeq = Extract<SeqDecision, { kind: 'accept' }>;

/**
 * Whole UTC seconds of the clock, the epoch seed. A clock that is invalid or before 1970 gives
 * 0, which falls back to plain epoch + 1 instead of throwing on a sensor frame.
 */
export function epochSeedOf(now: Date): number {
  const s = Math.floor(now.getTime() / 1000);
  return Number.isSafeInteger(s) && s > 0 ? s : 0;
}

interface SequenceRow {
  sensor_id: string;
  epoch: number;
  last_raw_seq: number;
  wraps: number;
}

export class SequenceTracker {
  private readonly states = new Map<string, SequenceState>();
  private readonly upsert;

  /**
   * @param db the gateway database (table sensor_sequence, schema v1).
   * @param now the gateway clock; read once per decided frame for the epoch seed.
   */
  constructor(
    db: GatewayDatabase,
    private readonly now: () => Date,
  ) {
    // The table stores the wrap count (schema v1, unchanged): unwrapped = wraps × 65536 + last raw seq,
    // which holds because the rule only ever adds the forward distance modulo 65536 to `unwrapped`.
    const rows = db.prepare('SELECT sensor_id, epoch, last_raw_seq, wraps FROM sensor_sequence').all() as SequenceRow[];
    for (const r of rows) {
      this.states.set(r.sensor_id, { epoch: r.epoch, lastSeq: r.last_raw_seq, unwrapped: r.wraps * SEQ_MODULO + r.last_raw_seq });
    }
    this.upsert = db.prepare(
      `INSERT INTO sensor_sequence (sensor_id, epoch, last_raw_seq, wraps) VALUES (?, ?, ?, ?)
       ON CONFLICT (sensor_id) DO UPDATE SET epoch = excluded.epoch, last_raw_seq = excluded.last_raw_seq, wraps = excluded.wraps`,
    );
  }

  /** Classifies a frame without changing anything. */
  decide(sensorId: string, rawSeq: number, isHello: boolean): SeqDecision {
    const step = advanceSequence(this.states.get(sensorId) ?? null, { seq: rawSeq, hello: isHello, epochSeed: epochSeedOf(this.now()) });
    if (step.event === 'duplicate') return { kind: 'duplicate', sensorId, rawSeq };
    return {
      kind: 'accept',
      sensorId,
      epoch: step.state.epoch,
      seq: step.state.unwrapped,
      gap: step.missing,
      event: step.event,
      next: step.state,
    };
  }

  /** Writes the decision's state to the database; call inside the transaction that appends the readings. */
  persist(d: AcceptedSeq): void {
    const wraps = (d.next.unwrapped - d.next.lastSeq) / SEQ_MODULO;
    // Cannot happen with advanceSequence; refusing here (the transaction rolls back) beats storing a fraction.
    if (!Number.isSafeInteger(wraps) || wraps < 0) throw new RangeError(`sequence state of ${d.sensorId} is not unwrapped from its raw seq`);
    this.upsert.run(d.sensorId, d.next.epoch, d.next.lastSeq, wraps);
  }

  /** Makes the decision current in memory; call after the transaction committed. */
  apply(d: AcceptedSeq): void {
    this.states.set(d.sensorId, d.next);
  }

  state(sensorId: string): SequenceState | undefined {
    return this.states.get(sensorId);
  }
}
