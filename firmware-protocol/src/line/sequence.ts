/**
 * From a sensor's 16-bit wrapping sequence number to the idempotency key the MQTT readings carry
 * (SPEC.md §5.4): an `epoch` that rises whenever the sensor restarts its numbering, and an
 * unwrapped `seq` that only grows within an epoch. Pure: the gateway keeps one `SequenceState`
 * per sensor and must store it durably together with the readings derived from it, or a gateway
 * restart would hand out old keys again.
 */
import { SEQ_MODULO } from './messages.ts';

/** Half the sequence space: a drop larger than this is a wrap, a smaller drop a restart. */
export const SEQ_WRAP_THRESHOLD = SEQ_MODULO / 2;

/** What the gateway remembers about one sensor's numbering. */
export interface SequenceState {
  /** Current epoch; part of the idempotency key. */
  epoch: number;
  /** Last raw sequence number received (0..65535). */
  lastSeq: number;
  /** Last unwrapped sequence number within `epoch`; part of the idempotency key. */
  unwrapped: number;
}

/**
 * How the new frame relates to the previous one:
 * `first` (no state yet), `next` (+1), `gap` (forward jump, `missing` > 0), `wrap` (65535 -> 0 side),
 * `duplicate` (same raw seq again: same key, the store drops it), `hello` (HEL: sensor booted),
 * `restart` (backwards jump of at most 32768 without HEL: a boot whose HEL was lost).
 */
export type SequenceEvent = 'first' | 'next' | 'gap' | 'wrap' | 'duplicate' | 'hello' | 'restart';

/** Result of one step; `missing` counts sequence numbers skipped (for the gap counters). */
export interface SequenceStep {
  state: SequenceState;
  event: SequenceEvent;
  missing: number;
}

export interface SequenceInput {
  /** Raw sequence number of the received frame, 0..65535. */
  seq: number;
  /** True when the frame is a HEL: the sensor has just booted. */
  hello: boolean;
  /**
   * Floor for a new epoch; SPEC.md recommends the gateway clock in whole UTC seconds, so that a
   * gateway that lost its state (new SD card, restored backup) never reuses an old epoch.
   */
  epochSeed: number;
}

/** Advances one sensor's state by one received frame. Any frame kind counts: all share one counter. */
export function advanceSequence(prev: SequenceState | null, input: SequenceInput): SequenceStep {
  const { seq, hello, epochSeed } = input;
  if (!Number.isInteger(seq) || seq < 0 || seq >= SEQ_MODULO) throw new RangeError(`sequence ${seq} out of 0..${SEQ_MODULO - 1}`);
  if (!Number.isSafeInteger(epochSeed) || epochSeed < 0) throw new RangeError(`epoch seed ${epochSeed} is not a non-negative integer`);
  if (prev === null) return { state: { epoch: epochSeed, lastSeq: seq, unwrapped: seq }, event: 'first', missing: 0 };
  const newEpoch = (event: 'hello' | 'restart'): SequenceStep => ({
    state: { epoch: Math.max(prev.epoch + 1, epochSeed), lastSeq: seq, unwrapped: seq },
    event,
    missing: 0,
  });
  if (hello) return newEpoch('hello');
  if (seq === prev.lastSeq) return { state: prev, event: 'duplicate', missing: 0 };
  if (seq > prev.lastSeq) {
    const step = seq - prev.lastSeq;
    return { state: { ...prev, lastSeq: seq, unwrapped: prev.unwrapped + step }, event: step === 1 ? 'next' : 'gap', missing: step - 1 };
  }
  const drop = prev.lastSeq - seq;
  if (drop > SEQ_WRAP_THRESHOLD) {
    const step = seq + SEQ_MODULO - prev.lastSeq;
    return { state: { ...prev, lastSeq: seq, unwrapped: prev.unwrapped + step }, event: 'wrap', missing: step - 1 };
  }
  return newEpoch('restart');
}
