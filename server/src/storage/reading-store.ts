/**
 * The time-series seam. Ingest, the HTTP API and the alert engine see readings only through
 * `ReadingStore`; SQLite implements it today (`SqliteReadingStore`), InfluxDB is meant to later.
 *
 * The interface is synchronous because SQLite (better-sqlite3) is, and a synchronous commit keeps
 * ingest simple: store, then ack, then detect, one batch at a time. A network store (InfluxDB)
 * will need an async variant of `insertBatch`/`insertBatches`; ingest is the only writer, so that
 * change stays in one place.
 */
import type { Quantity, Reading } from '@kentongan/firmware-protocol';
import type { StoredReading } from '../alerts/types.ts';

export type { StoredReading };

/** Result of storing one batch. */
export interface InsertResult {
  /** Readings newly committed, sorted by event time (`ts`, then epoch and seq). */
  stored: StoredReading[];
  /** Readings the store already had under the same key (a redelivery); not stored again. */
  duplicates: number;
  /**
   * Duplicates whose value or time differ from the stored reading: the same key for different
   * data, which means a gateway reused a sequence number (a lost epoch counter). The stored
   * reading wins; these are counted and logged so the fault is visible.
   */
  conflicts: number;
}

/** Event time, then epoch and seq: the order of `InsertResult.stored` (and of what ingest hands to detection). */
export function byEventTime(a: StoredReading, b: StoredReading): number {
  // Both are UTC ISO strings with milliseconds (readingSchema), so text order is time order.
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.epoch - b.epoch || a.seq - b.seq;
}

/** One batch of a group commit (`insertBatches`). */
export interface BatchToStore {
  /** The authenticated gateway that delivered the batch (provenance). */
  gatewayId: string;
  /** Readings already validated with `readingSchema`. */
  readings: readonly Reading[];
  /** Server time of arrival. */
  receivedAt: Date;
}

/** A bounded history query. `from`/`to` are inclusive; both optional. */
export interface HistoryQuery {
  sensorId: string;
  quantity: Quantity;
  from?: Date;
  to?: Date;
  /** Most readings returned; when the window holds more, the newest `limit` are returned. */
  limit: number;
}

/** Sequence statistics of one sensor epoch, as the server saw it. */
export interface SequenceStats {
  sensorId: string;
  epoch: number;
  minSeq: number;
  maxSeq: number;
  /** Distinct sequence numbers received. */
  received: number;
  /** Sequence numbers missing between `minSeq` and `maxSeq`. */
  gaps: number;
  lastReceivedAt: string;
}

export interface ReadingStore {
  /**
   * Stores a batch in one transaction, idempotent on (sensorId, epoch, seq, quantity): a reading
   * already stored is counted as a duplicate and left as it was. When this returns, the readings
   * are durable (committed); when it throws, nothing of the batch was stored.
   * @param gatewayId the authenticated gateway that delivered the batch (provenance).
   * @param readings readings already validated with `readingSchema`.
   * @param receivedAt server time of arrival.
   */
  insertBatch(gatewayId: string, readings: readonly Reading[], receivedAt: Date): InsertResult;
  /**
   * Group commit: stores several batches in **one** transaction, so they share one durable commit
   * (one fsync) instead of paying one each. Returns one result per batch, in the given order;
   * duplicates are judged in that order too, so a reading carried by two of the batches is stored
   * by the first and counted as a duplicate of the second. When this returns, every batch is
   * durable; when it throws, none of them was stored (all or nothing).
   */
  insertBatches(batches: readonly BatchToStore[]): InsertResult[];
  /** The latest reading (by event time) per sensor and quantity; of one sensor when given. */
  latest(sensorId?: string): StoredReading[];
  /** Readings of one sensor and quantity in a time window, in ascending time order. */
  history(query: HistoryQuery): StoredReading[];
  /** How many readings the store holds. */
  count(): number;
  /** Sequence statistics per sensor and epoch (of one sensor when given), newest epoch first. */
  sequenceStats(sensorId?: string): SequenceStats[];
}
