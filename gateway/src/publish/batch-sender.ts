/**
 * Sends queued readings as batches and removes them only on the server's ack (end-to-end
 * acknowledgement, SPEC §5). Oldest first; at most `maxInFlight` unacknowledged batches, so
 * a replay after a long outage advances at the pace the server acks and does not flood the
 * broker. A batch is the contiguous queue rows [firstId, lastId]; its id is
 * `${queueId}:${firstId}-${lastId}`, where queueId is random and made once per database file.
 * Row ids are never reused within one file, so that id names the same rows even after a
 * restart: a late ack for a batch sent by a previous run still removes exactly its rows. A new
 * file (lost database, new SD card) numbers rows from 1 again but has another queue id, so an
 * ack the broker kept for the old file is ignored (SPEC §5.5 gateway step 5), never applied to
 * new rows that happen to have the same ids.
 *
 * Two lanes (README "Replay and live readings"):
 * - live: the newest rows, sent as soon as a batch is full or at the batch interval;
 * - replay: the backlog (rows queued while offline, before a restart, or while the live lane fell
 *   more than `liveLagReadings` behind; the newest batch of them stays live), oldest first, at most `replayMaxBatchesPerS` batches a
 *   second and never in the last in-flight place, which stays free for the live lane. A live
 *   reading therefore waits at most one batch interval plus the server's handling of the batches
 *   ahead of it (at most maxInFlight - 1), whatever the size of the backlog.
 *
 * Before publishing, every reading and the envelope are validated with the protocol schemas
 * (SPEC §5.5 gateway step 2). A failure is a gateway bug: logged as an error and counted; a bad
 * reading is deleted from the queue so it cannot block the readings behind it.
 */
import { MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, readingSchema, readingsBatchSchema, formatZodError, type Ack, type ReadingsBatch } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { DiskQueue, QueuedReading } from '../queue/disk-queue.ts';
import type { GatewayCounters } from '../stats.ts';

export interface BatchSenderOptions {
  queue: DiskQueue;
  /** This database's queue id (readQueueId): the prefix of every batch id. */
  queueId: string;
  gatewayId: string;
  batchMaxReadings: number;
  maxInFlight: number;
  ackTimeoutMs: number;
  counters: GatewayCounters;
  logger: Logger;
  /** Wall clock for `sentAt`. */
  now: () => Date;
  /** Monotonic ms for ack timeouts (defaults to performance.now). */
  monoMs?: () => number;
  /** Backlog batches started per second at most (default: no limit). */
  replayMaxBatchesPerS?: number;
  /** Unsent rows behind the newest above which the live lane's rows become backlog (default 2 × batch). */
  liveLagReadings?: number;
  /** Publishes the batch JSON on the readings topic at QoS 1; resolves on PUBACK. */
  publish(payload: string): Promise<void>;
  /** Called when an ack of a known batch carries the server's time; `rttMs` null when the batch was resent. */
  onServerTime?(serverTime: string, rttMs: number | null): void;
}

/** Counts of the sender's lanes, for stats and health. */
export interface SenderLanes {
  /** Rows (ids) still to replay, an upper bound (deleted rows inside the ranges are included). */
  replayBacklog: number;
  inFlightLive: number;
  inFlightReplay: number;
}

interface InFlight {
  batchId: string;
  firstId: number;
  lastId: number;
  sentAtMs: number;
  /** A publish of this batch has not settled yet (no PUBACK). */
  publishing: boolean;
  lane: 'live' | 'replay';
  /** Sent more than once: its ack says nothing about the round trip. */
  resent: boolean;
}

/** Backlog rows with after < id <= upTo. */
interface ReplayRange {
  after: number;
  upTo: number;
}

/**
 * `<queueId>:<firstId>-<lastId>` (at most 8 + 1 + 16 + 1 + 16 = 42 characters; ackSchema allows 64).
 * The queue id is optional in the grammar only to recognise `<firstId>-<lastId>`, what gateways
 * sent before there was a queue id: an ack for such a batch can only be stale.
 */
const BATCH_ID = /^(?:([0-9a-f]{8}):)?(\d{1,16})-(\d{1,16})$/;

export class BatchSender {
  private readonly inflight = new Map<string, InFlight>();
  /** Highest row id handed to the live lane. */
  private liveCursor = 0;
  /** Backlog, oldest range first. */
  private readonly replay: ReplayRange[] = [];
  private online = false;
  private nextReplayAtMs = -Infinity;
  private replayTimer: NodeJS.Timeout | undefined;
  private readonly monoMs: () => number;
  private readonly log: Logger;
  private readonly replayIntervalMs: number;
  private readonly liveLag: number;

  constructor(private readonly opts: BatchSenderOptions) {
    this.monoMs = opts.monoMs ?? (() => performance.now());
    this.log = opts.logger.child({ component: 'batch-sender' });
    this.replayIntervalMs = opts.replayMaxBatchesPerS ? 1000 / opts.replayMaxBatchesPerS : 0;
    this.liveLag = opts.liveLagReadings ?? 2 * opts.batchMaxReadings;
    // Rows queued before this start (a restart, maybe after an outage) are backlog, except the newest
    // batch; rows committed from now on are live even before the first connection is set up.
    this.demoteLaggingLive();
  }

  inFlightCount(): number {
    return this.inflight.size;
  }

  lanes(): SenderLanes {
    let inFlightLive = 0;
    for (const b of this.inflight.values()) if (b.lane === 'live') inFlightLive++;
    const pending = this.replay.reduce((n, r) => n + (r.upTo - r.after), 0);
    return { replayBacklog: pending, inFlightLive, inFlightReplay: this.inflight.size - inFlightLive };
  }

  /** Connection state. On reconnect, batches whose publish had settled are sent again: the
   * broker may have lost them (restart) and only the server's ack proves they arrived. */
  setOnline(online: boolean): void {
    this.online = online;
    if (!online) return;
    for (const b of [...this.inflight.values()]) {
      b.sentAtMs = this.monoMs();
      // A publish still pending is resent by the MQTT client itself from its session store.
      if (!b.publishing) this.resend(b);
    }
    this.pump(true);
  }

  /** Stops the pacing timer (the publisher is stopping). */
  close(): void {
    clearTimeout(this.replayTimer);
    this.replayTimer = undefined;
    this.online = false;
  }

  /** Sends new batches while there is room in flight. `partial` also sends a live batch that is not full. */
  pump(partial: boolean): void {
    if (!this.online) return;
    this.demoteLaggingLive();
    // Live first: it may take any free place.
    while (this.inflight.size < this.opts.maxInFlight && this.sendLive(partial));
    // Backlog: never the last free place (kept for live), and paced.
    const replayPlaces = Math.max(1, this.opts.maxInFlight - 1);
    while (this.replay.length > 0 && this.inflight.size < this.opts.maxInFlight && this.replayInFlight() < replayPlaces) {
      const wait = this.nextReplayAtMs - this.monoMs();
      if (wait > 0) {
        this.replayTimer ??= setTimeout(() => {
          this.replayTimer = undefined;
          this.pump(false);
        }, Math.ceil(wait)).unref();
        return;
      }
      // At most one batch of burst after an idle spell, then one per interval.
      if (this.sendReplay()) this.nextReplayAtMs = Math.max(this.nextReplayAtMs, this.monoMs() - this.replayIntervalMs) + this.replayIntervalMs;
    }
  }

  /**
   * Moves the live lane's unsent rows to the backlog when there are too many of them (a restart,
   * an outage, a server slower than the sensors for a while). The newest batch of them stays live,
   * so the freshest readings go first after a reconnect; the older ones replay oldest first.
   */
  private demoteLaggingLive(): void {
    const newest = this.opts.queue.newestId();
    if (newest - this.liveCursor <= this.liveLag) return;
    const upTo = newest - Math.min(this.opts.batchMaxReadings, this.liveLag);
    const last = this.replay.at(-1);
    if (last && last.upTo === this.liveCursor) last.upTo = upTo;
    else this.replay.push({ after: this.liveCursor, upTo });
    this.log.info({ fromId: this.liveCursor + 1, toId: upTo }, 'backlog queued for paced replay; newer readings go live');
    this.liveCursor = upTo;
  }

  private replayInFlight(): number {
    let n = 0;
    for (const b of this.inflight.values()) if (b.lane === 'replay') n++;
    return n;
  }

  /** One live batch; false when there is nothing (or not enough) to send. */
  private sendLive(partial: boolean): boolean {
    const max = this.opts.batchMaxReadings;
    for (;;) {
      // Cheap check first: this runs after every committed frame, and reading rows costs more.
      const unsentAtMost = this.opts.queue.newestId() - this.liveCursor;
      if (unsentAtMost <= 0 || (!partial && unsentAtMost < max)) return false;
      const rows = this.opts.queue.peekBatch(max, this.liveCursor);
      if (rows.length === 0 || (!partial && rows.length < max)) return false;
      this.liveCursor = rows.at(-1)!.id;
      if (this.start(rows, 'live')) return true;
    }
  }

  /** One backlog batch; false when the range held nothing sendable (it is then consumed). */
  private sendReplay(): boolean {
    const range = this.replay[0]!;
    const rows = this.opts.queue.peekBetween(range.after, range.upTo, this.opts.batchMaxReadings);
    if (rows.length === 0) {
      this.replay.shift();
      return false;
    }
    range.after = rows.at(-1)!.id;
    if (range.after >= range.upTo) this.replay.shift();
    return this.start(rows, 'replay');
  }

  private start(rows: QueuedReading[], lane: InFlight['lane']): boolean {
    const valid = this.validReadings(rows);
    // Every row of it was invalid (and is now deleted): nothing to send.
    if (valid.length === 0) return false;
    const firstId = rows[0]!.id;
    const lastId = rows.at(-1)!.id;
    const b: InFlight = { batchId: `${this.opts.queueId}:${firstId}-${lastId}`, firstId, lastId, sentAtMs: this.monoMs(), publishing: false, lane, resent: false };
    this.inflight.set(b.batchId, b);
    this.send(b, valid);
    return true;
  }

  /** Resends batches whose ack is overdue. */
  checkTimeouts(): void {
    if (!this.online) return;
    const now = this.monoMs();
    for (const b of [...this.inflight.values()]) {
      if (now - b.sentAtMs >= this.opts.ackTimeoutMs) {
        this.log.info({ batchId: b.batchId }, 'ack overdue: resending batch');
        this.resend(b);
      }
    }
  }

  /** Handles a valid ack: removes the batch's rows if the ack covers them. */
  onAck(ack: Ack): void {
    const known = this.inflight.get(ack.batchId);
    const parsed = known ? { queueId: this.opts.queueId, ...known } : parseBatchId(ack.batchId);
    if (!parsed) {
      this.opts.counters.badAcks++;
      this.log.warn({ batchId: ack.batchId.slice(0, 64) }, 'ack for a batch id this gateway never makes');
      return;
    }
    if (parsed.queueId !== this.opts.queueId) {
      // For a batch of another database file (this gateway's old SD card, or a version that sent
      // no queue id): its row ids may now name other readings, so it must not remove anything.
      this.opts.counters.staleAcks++;
      this.log.warn({ batchId: ack.batchId, queueId: this.opts.queueId }, 'ack for a batch of another queue (old database): ignored');
      return;
    }
    const range = parsed;
    const present = this.opts.queue.countRange(range.firstId, range.lastId);
    const covered = ack.stored + ack.duplicates + ack.rejected.length;
    if (present === 0) {
      // Already removed: a second ack for a batch we resent. Nothing to do.
      if (known) this.inflight.delete(ack.batchId);
      this.log.debug({ batchId: ack.batchId }, 'ack for rows already removed');
      this.pump(false);
      return;
    }
    if (covered < present) {
      // The ack does not say every reading is stored: keep them; the batch is resent on timeout.
      this.opts.counters.badAcks++;
      this.log.warn({ batchId: ack.batchId, covered, queued: present }, 'ack covers fewer readings than the batch: kept');
      return;
    }
    this.opts.queue.removeRange(range.firstId, range.lastId);
    if (known) {
      this.inflight.delete(ack.batchId);
      if (ack.serverTime) this.opts.onServerTime?.(ack.serverTime, known.resent ? null : this.monoMs() - known.sentAtMs);
    }
    this.opts.counters.acked += ack.stored + ack.duplicates;
    this.opts.counters.rejectedByServer += ack.rejected.length;
    if (ack.rejected.length > 0) {
      this.log.warn({ batchId: ack.batchId, rejected: ack.rejected.length, first: ack.rejected.slice(0, 3) }, 'server rejected readings');
    }
    this.pump(false);
  }

  private resend(b: InFlight): void {
    const rows = this.validReadings(this.opts.queue.peekRange(b.firstId, b.lastId));
    if (rows.length === 0) {
      // Every row of it was dropped by the queue bound meanwhile: nothing left to deliver.
      this.inflight.delete(b.batchId);
      return;
    }
    this.opts.counters.resentBatches++;
    b.sentAtMs = this.monoMs();
    b.resent = true;
    this.log.info({ batchId: b.batchId, lane: b.lane, readings: rows.length }, 'batch resent');
    this.send(b, rows);
  }

  /** The rows whose reading meets readingSchema; the others are deleted from the queue and counted. */
  private validReadings(rows: QueuedReading[]): QueuedReading[] {
    const valid: QueuedReading[] = [];
    for (const row of rows) {
      const result = readingSchema.safeParse(row.reading);
      if (result.success) {
        valid.push(row);
        continue;
      }
      this.opts.queue.remove([row.id]);
      this.opts.counters.invalidReadings++;
      this.log.error({ id: row.id, error: formatZodError(result.error).slice(0, 300) }, 'queued reading fails the reading schema (gateway bug): dropped');
    }
    return valid;
  }

  private send(b: InFlight, rows: QueuedReading[]): void {
    const batch: ReadingsBatch = {
      v: PROTOCOL_VERSION,
      gatewayId: this.opts.gatewayId,
      batchId: b.batchId,
      sentAt: this.opts.now().toISOString(),
      readings: rows.map((r) => r.reading),
    };
    // The envelope is ours alone (gateway id, batch id, time, size): if it fails, every batch would,
    // so the readings stay queued (bounded) and the error says what to fix; the ack timeout retries.
    // Checked on the object (not by parsing our own JSON again: that doubled the cost of a replay).
    const checked = readingsBatchSchema.safeParse(batch);
    const payload = JSON.stringify(batch);
    const bytes = Buffer.byteLength(payload);
    if (!checked.success || bytes > MAX_PAYLOAD_BYTES) {
      this.opts.counters.invalidBatches++;
      const error = checked.success ? `payload too large: ${bytes} > ${MAX_PAYLOAD_BYTES} bytes` : formatZodError(checked.error);
      this.log.error({ batchId: b.batchId.slice(0, 64), error: error.slice(0, 300) }, 'batch envelope fails the batch schema (gateway bug): not published');
      return;
    }
    b.publishing = true;
    this.opts.publish(payload).then(
      () => {
        b.publishing = false;
        this.opts.counters.published += rows.length;
      },
      (err: Error) => {
        b.publishing = false;
        this.log.warn({ batchId: b.batchId, err: err.message }, 'batch publish failed; will resend');
      },
    );
  }
}

/** The parts of a batch id of this gateway's grammar (any queue id), or null for a malformed one. */
function parseBatchId(batchId: string): { queueId: string; firstId: number; lastId: number } | null {
  const m = BATCH_ID.exec(batchId);
  if (!m) return null;
  const firstId = Number(m[2]);
  const lastId = Number(m[3]);
  // A legacy id (no queue id) gets '', which matches no queue.
  return firstId >= 1 && firstId <= lastId ? { queueId: m[1] ?? '', firstId, lastId } : null;
}
