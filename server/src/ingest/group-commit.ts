/**
 * Group commit: valid batches wait in a short queue and are written together, in one store
 * transaction, so that many batches share one durable commit (one fsync with
 * `synchronous = FULL`) instead of paying one each. The caller hears of every batch only after
 * that commit, which keeps the end-to-end promise (SPEC §5.5): an ack follows a durable commit.
 *
 * A flush happens when the queue holds `maxReadings` readings or `maxBatches` batches (at once,
 * inside the `enqueue` call), or `maxDelayMs` after the first batch entered an empty queue.
 *
 * Why the queue is bounded: the flush is synchronous. When a threshold is reached it runs
 * before `enqueue` returns, so the queue never holds more than `maxReadings` plus one batch
 * (≤ `MAX_BATCH_READINGS`) readings or `maxBatches` batches. If the database stalls (a lock, a
 * slow SD card), the flush — and with it the event loop — stalls too: aedes stops reading from
 * the sockets and TCP flow control holds the gateways back, which keep their batches on disk.
 *
 * If the group transaction fails, nothing of it was stored. When the group held more than one
 * batch, each batch is then tried again in its own transaction, so that one batch that cannot be
 * stored (a fault we do not foresee) does not hold the others hostage on every resend; a batch
 * that still fails is reported as failed, is not acknowledged, and its gateway resends it.
 */
import type { Reading } from '@kentongan/firmware-protocol';
import { ServerError } from '../errors.ts';
import type { BatchToStore, InsertResult, ReadingStore } from '../storage/reading-store.ts';

/** When queued batches are written. Every field is optional; see `DEFAULT_GROUP_COMMIT`. */
export interface GroupCommitOptions {
  /** Flush as soon as the queue holds at least this many readings. */
  maxReadings?: number;
  /** Flush as soon as the queue holds this many batches (bounds the queue of small batches). */
  maxBatches?: number;
  /**
   * Longest a batch waits for others, in ms, counted from the first batch of a group.
   * `0` flushes on the next turn of the event loop (`setImmediate`): batches that arrived in the
   * same round of socket reads still share a commit.
   */
  maxDelayMs?: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export const DEFAULT_GROUP_COMMIT: Required<GroupCommitOptions> = { maxReadings: 2000, maxBatches: 64, maxDelayMs: 5 };

/** A batch waiting for the commit; `tag` is the caller's own (ack data, logger). */
export interface QueuedBatch<T> extends BatchToStore {
  tag: T;
}

/** What became of one batch of a flush. */
export type FlushOutcome<T> =
  | { batch: QueuedBatch<T>; ok: true; result: InsertResult }
  | { batch: QueuedBatch<T>; ok: false; error: unknown };

export interface GroupCommitHandlers<T> {
  /**
   * Called once per flush, after the commit, with one outcome per batch in queue order. Every
   * `ok` outcome is durable by now; a failed one left nothing in the store.
   */
  onFlushed(outcomes: FlushOutcome<T>[]): void;
  /** The group transaction failed (before the per-batch retry). */
  onGroupFailed(error: unknown, batches: number, readings: number): void;
  /** `onFlushed` threw: a bug in the caller, reported instead of crashing a timer callback. */
  onHandlerError(error: unknown): void;
}

export class GroupCommitter<T> {
  private readonly opts: Required<GroupCommitOptions>;
  private queue: QueuedBatch<T>[] = [];
  private queuedReadings = 0;
  private timer: { cancel(): void } | null = null;
  private flushing = false;
  private stopped = false;

  constructor(
    private readonly store: Pick<ReadingStore, 'insertBatches'>,
    private readonly handlers: GroupCommitHandlers<T>,
    options: GroupCommitOptions = {},
  ) {
    this.opts = { ...DEFAULT_GROUP_COMMIT, ...options };
    for (const [key, value] of Object.entries(this.opts)) {
      const min = key === 'maxDelayMs' ? 0 : 1;
      // setTimeout fires at once for delays above 2^31 - 1 ms; nothing sensible is that long.
      if (!Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
        throw new ServerError('INGEST_OPTION_INVALID', `group commit option ${key} must be an integer in ${min}..${MAX_TIMER_MS}, got ${value}`);
      }
    }
  }

  /** Batches waiting for the next flush. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues a batch. It is written at the next flush, which may happen inside this call; after
   * `stop()` every batch is written at once, on its own.
   */
  enqueue(gatewayId: string, readings: readonly Reading[], receivedAt: Date, tag: T): void {
    this.queue.push({ gatewayId, readings, receivedAt, tag });
    this.queuedReadings += readings.length;
    if (this.stopped || this.queuedReadings >= this.opts.maxReadings || this.queue.length >= this.opts.maxBatches) {
      this.flush();
    } else {
      this.timer ??= this.schedule();
    }
  }

  /**
   * Writes every queued batch now, in one transaction, then reports the outcomes. Synchronous:
   * when it returns the batches are committed (or failed) and `onFlushed` has run.
   */
  flush(): void {
    // A flush started from inside onFlushed (it should not happen) is left to the timer.
    if (this.flushing) return;
    this.timer?.cancel();
    this.timer = null;
    if (this.queue.length === 0) return;
    const batches = this.queue;
    const readings = this.queuedReadings;
    this.queue = [];
    this.queuedReadings = 0;
    this.flushing = true;
    try {
      const outcomes = this.write(batches, readings);
      try {
        this.handlers.onFlushed(outcomes);
      } catch (err) {
        this.handlers.onHandlerError(err);
      }
    } finally {
      this.flushing = false;
    }
    // Batches queued while onFlushed ran: after stop() they are written now, else they wait for
    // their own timer (or threshold).
    if (this.queue.length > 0) {
      if (this.stopped) this.flush();
      else this.timer ??= this.schedule();
    }
  }

  /**
   * Flushes what is queued and switches to one transaction per batch, with no timer left
   * behind: after this, `enqueue` writes each batch before it returns. Call it before the
   * database closes; batches that arrive after that fail to store and are not acknowledged
   * (their gateways resend them).
   */
  stop(): void {
    this.stopped = true;
    this.flush();
  }

  private write(batches: QueuedBatch<T>[], readings: number): FlushOutcome<T>[] {
    try {
      const results = this.store.insertBatches(batches);
      return batches.map((batch, i) => ({ batch, ok: true, result: results[i]! }));
    } catch (err) {
      this.handlers.onGroupFailed(err, batches.length, readings);
      if (batches.length === 1) return [{ batch: batches[0]!, ok: false, error: err }];
    }
    // Isolate the failure: each batch in its own transaction.
    return batches.map((batch): FlushOutcome<T> => {
      try {
        return { batch, ok: true, result: this.store.insertBatches([batch])[0]! };
      } catch (error) {
        return { batch, ok: false, error };
      }
    });
  }

  private schedule(): { cancel(): void } {
    const run = () => {
      this.timer = null;
      try {
        this.flush();
      } catch (err) {
        // Never an uncaught exception from a timer: the write path already catches store errors.
        this.handlers.onHandlerError(err);
      }
    };
    if (this.opts.maxDelayMs === 0) {
      const handle = setImmediate(run);
      return { cancel: () => clearImmediate(handle) };
    }
    const handle = setTimeout(run, this.opts.maxDelayMs);
    // A pending flush must not keep a process alive on its own; stop() flushes explicitly.
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  }
}
