/**
 * `ReadingStore` on the shared SQLite file (tables from migrations.ts). Every statement is
 * prepared once; a call is one transaction (`insertBatch`: one batch, `insertBatches`: a group
 * of batches), so either all of its new readings are committed or none are.
 */
import type Database from 'better-sqlite3';
import type { Quantity, Reading } from '@kentongan/firmware-protocol';
import {
  byEventTime,
  type BatchToStore,
  type HistoryQuery,
  type InsertResult,
  type ReadingStore,
  type SequenceStats,
  type StoredReading,
} from './reading-store.ts';

/** A `readings` row as SELECTed with its reading columns. */
export interface ReadingRow {
  gateway_id: string;
  sensor_id: string;
  epoch: number;
  seq: number;
  quantity: string;
  value: number;
  unit: string;
  ts_ms: number;
  quality: string;
  received_ms: number;
}

interface SequenceRow {
  sensor_id: string;
  epoch: number;
  min_seq: number;
  max_seq: number;
  distinct_seqs: number;
  last_received_ms: number;
}

/** (sensor, epoch) pairs whose highest seq is remembered; past this the map is emptied (bounds memory). */
const MAX_SEQ_HIGH_ENTRIES = 10_000;

const READING_COLUMNS = 'gateway_id, sensor_id, epoch, seq, quantity, value, unit, ts_ms, quality, received_ms';

export class SqliteReadingStore implements ReadingStore {
  private readonly seqSeen: Database.Statement<[string, number, number], unknown>;
  private readonly seqMax: Database.Statement<[string, number], { max_seq: number }>;
  /**
   * Per sensor and epoch, a bound at or above the highest seq stored (-1: none): a reading above
   * it is certainly a new sequence number, which spares the `seqSeen` lookup for the usual case
   * of readings arriving in order. Raised as rows are inserted; a rollback leaves it too high,
   * which is safe (it only costs a lookup). It could only be too low if another writer inserted
   * readings behind this store's back; this store is the only writer of `readings`.
   */
  private readonly seqHigh = new Map<string, number>();
  private readonly insert: Database.Statement<unknown[]>;
  private readonly existing: Database.Statement<[string, number, number, string], { value: number; ts_ms: number }>;
  private readonly upsertLatest: Database.Statement<[string, string, number | bigint, number]>;
  private readonly upsertSequence: Database.Statement<
    [{ sensorId: string; epoch: number; min: number; max: number; distinct: number; receivedMs: number }]
  >;
  private readonly addTotal: Database.Statement<[number]>;
  private readonly latestStmt: Database.Statement<[{ sensorId: string | null }], ReadingRow>;
  private readonly historyStmt: Database.Statement<[string, string, number, number, number], ReadingRow>;
  private readonly countStmt: Database.Statement<[], { value: number }>;
  private readonly sequenceStmt: Database.Statement<[{ sensorId: string | null }], SequenceRow>;
  private readonly insertTx: (batches: readonly BatchToStore[]) => InsertResult[];

  constructor(db: Database.Database) {
    this.seqSeen = db.prepare('SELECT 1 FROM readings WHERE sensor_id = ? AND epoch = ? AND seq = ? LIMIT 1');
    this.seqMax = db.prepare('SELECT max_seq FROM sequence_stats WHERE sensor_id = ? AND epoch = ?');
    // ON CONFLICT on the key only (not INSERT OR IGNORE, which would also swallow NOT NULL
    // violations): a redelivered reading is a no-op, anything else still fails loudly.
    this.insert = db.prepare(
      `INSERT INTO readings (${READING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sensor_id, epoch, seq, quantity) DO NOTHING`,
    );
    this.existing = db.prepare(
      'SELECT value, ts_ms FROM readings WHERE sensor_id = ? AND epoch = ? AND seq = ? AND quantity = ?',
    );
    this.upsertLatest = db.prepare(
      `INSERT INTO latest_readings (sensor_id, quantity, reading_id, ts_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (sensor_id, quantity) DO UPDATE SET reading_id = excluded.reading_id, ts_ms = excluded.ts_ms
       WHERE excluded.ts_ms >= latest_readings.ts_ms`,
    );
    this.upsertSequence = db.prepare(
      `INSERT INTO sequence_stats (sensor_id, epoch, min_seq, max_seq, distinct_seqs, last_received_ms)
       VALUES (@sensorId, @epoch, @min, @max, @distinct, @receivedMs)
       ON CONFLICT (sensor_id, epoch) DO UPDATE SET
         min_seq = min(min_seq, excluded.min_seq),
         max_seq = max(max_seq, excluded.max_seq),
         distinct_seqs = distinct_seqs + excluded.distinct_seqs,
         last_received_ms = excluded.last_received_ms`,
    );
    this.addTotal = db.prepare("UPDATE store_totals SET value = value + ? WHERE name = 'readings'");
    this.latestStmt = db.prepare(
      `SELECT ${prefixed('r')} FROM latest_readings l JOIN readings r ON r.id = l.reading_id
       WHERE @sensorId IS NULL OR l.sensor_id = @sensorId ORDER BY l.sensor_id, l.quantity`,
    );
    // Newest first to honour the limit (history() reverses): a chart wants ascending time.
    this.historyStmt = db.prepare(
      `SELECT ${READING_COLUMNS} FROM readings
       WHERE sensor_id = ? AND quantity = ? AND ts_ms BETWEEN ? AND ?
       ORDER BY ts_ms DESC, epoch DESC, seq DESC LIMIT ?`,
    );
    this.countStmt = db.prepare("SELECT value FROM store_totals WHERE name = 'readings'");
    this.sequenceStmt = db.prepare(
      'SELECT * FROM sequence_stats WHERE @sensorId IS NULL OR sensor_id = @sensorId ORDER BY sensor_id, epoch DESC',
    );
    // Batches are written one after the other on the same connection, so a later batch sees the
    // earlier ones' rows (uncommitted, same transaction) and counts their readings as duplicates.
    this.insertTx = db.transaction((batches: readonly BatchToStore[]) =>
      batches.map((b) => this.insertRows(b.gatewayId, b.readings, b.receivedAt)),
    );
  }

  insertBatch(gatewayId: string, readings: readonly Reading[], receivedAt: Date): InsertResult {
    return this.insertBatches([{ gatewayId, readings, receivedAt }])[0]!;
  }

  insertBatches(batches: readonly BatchToStore[]): InsertResult[] {
    if (batches.length === 0) return [];
    const results = this.insertTx(batches);
    for (const result of results) result.stored.sort(byEventTime);
    return results;
  }

  private insertRows(gatewayId: string, readings: readonly Reading[], receivedAt: Date): InsertResult {
    const receivedMs = receivedAt.getTime();
    const receivedIso = receivedAt.toISOString();
    const stored: StoredReading[] = [];
    let duplicates = 0;
    let conflicts = 0;
    // Latest value and sequence statistics are folded per batch and written once per sensor,
    // not once per reading: a batch holds hundreds of readings of a few sensors.
    const latest = new Map<string, { sensorId: string; quantity: string; rowId: number | bigint; tsMs: number }>();
    const sequences = new Map<string, { sensorId: string; epoch: number; min: number; max: number; distinct: number }>();
    // Emptied only between batches: sequence_stats then includes every row written so far, so
    // the bounds reloaded from it are exact (within a batch it lags until the upsert below).
    if (this.seqHigh.size >= MAX_SEQ_HIGH_ENTRIES) this.seqHigh.clear();
    for (const r of readings) {
      const tsMs = Date.parse(r.ts);
      const seqKey = `${r.sensorId}\u0000${r.epoch}`;
      const high = this.seqHighOf(seqKey, r.sensorId, r.epoch);
      const newSeq = r.seq > high || this.seqSeen.get(r.sensorId, r.epoch, r.seq) === undefined;
      const info = this.insert.run(
        gatewayId, r.sensorId, r.epoch, r.seq, r.quantity, r.value, r.unit, tsMs, r.quality, receivedMs,
      );
      if (info.changes === 0) {
        duplicates++;
        const old = this.existing.get(r.sensorId, r.epoch, r.seq, r.quantity);
        if (old && (old.value !== r.value || old.ts_ms !== tsMs)) conflicts++;
        continue;
      }
      const latestKey = `${r.sensorId}\u0000${r.quantity}`;
      const prev = latest.get(latestKey);
      if (!prev || tsMs >= prev.tsMs) latest.set(latestKey, { sensorId: r.sensorId, quantity: r.quantity, rowId: info.lastInsertRowid, tsMs });
      if (r.seq > high) this.seqHigh.set(seqKey, r.seq);
      if (newSeq) {
        const s = sequences.get(seqKey);
        if (s) {
          s.min = Math.min(s.min, r.seq);
          s.max = Math.max(s.max, r.seq);
          s.distinct++;
        } else sequences.set(seqKey, { sensorId: r.sensorId, epoch: r.epoch, min: r.seq, max: r.seq, distinct: 1 });
      }
      stored.push({
        gatewayId,
        sensorId: r.sensorId,
        epoch: r.epoch,
        seq: r.seq,
        quantity: r.quantity,
        value: r.value,
        unit: r.unit,
        // readingSchema admits only UTC with milliseconds, the form toISOString() writes.
        ts: r.ts,
        quality: r.quality,
        receivedAt: receivedIso,
      });
    }
    for (const l of latest.values()) this.upsertLatest.run(l.sensorId, l.quantity, l.rowId, l.tsMs);
    for (const q of sequences.values()) this.upsertSequence.run({ ...q, receivedMs });
    if (stored.length > 0) this.addTotal.run(stored.length);
    return { stored, duplicates, conflicts };
  }

  private seqHighOf(key: string, sensorId: string, epoch: number): number {
    let high = this.seqHigh.get(key);
    if (high === undefined) {
      // sequence_stats is written in the same transaction as the rows, so its max_seq is exact.
      high = this.seqMax.get(sensorId, epoch)?.max_seq ?? -1;
      this.seqHigh.set(key, high);
    }
    return high;
  }

  latest(sensorId?: string): StoredReading[] {
    return this.latestStmt.all({ sensorId: sensorId ?? null }).map(toStored);
  }

  history(query: HistoryQuery): StoredReading[] {
    const from = query.from ? query.from.getTime() : Number.MIN_SAFE_INTEGER;
    const to = query.to ? query.to.getTime() : Number.MAX_SAFE_INTEGER;
    const limit = Math.max(0, Math.floor(query.limit));
    const rows = this.historyStmt.all(query.sensorId, query.quantity, from, to, limit);
    return rows.reverse().map(toStored);
  }

  count(): number {
    return this.countStmt.get()?.value ?? 0;
  }

  sequenceStats(sensorId?: string): SequenceStats[] {
    return this.sequenceStmt.all({ sensorId: sensorId ?? null }).map((r) => ({
      sensorId: r.sensor_id,
      epoch: r.epoch,
      minSeq: r.min_seq,
      maxSeq: r.max_seq,
      received: r.distinct_seqs,
      gaps: r.max_seq - r.min_seq + 1 - r.distinct_seqs,
      lastReceivedAt: new Date(r.last_received_ms).toISOString(),
    }));
  }
}

function prefixed(alias: string): string {
  return READING_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

/** The one mapping from a `readings` row to a `StoredReading` (store API, engine recovery). */
export function toStored(r: ReadingRow): StoredReading {
  return {
    gatewayId: r.gateway_id,
    sensorId: r.sensor_id,
    epoch: r.epoch,
    seq: r.seq,
    quantity: r.quantity as Quantity,
    value: r.value,
    unit: r.unit,
    ts: new Date(r.ts_ms).toISOString(),
    quality: r.quality === 'suspect' ? 'suspect' : 'good',
    receivedAt: new Date(r.received_ms).toISOString(),
  };
}
