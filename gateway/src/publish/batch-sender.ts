/**
 * Sends queued readings as batches and removes them only on the server's ack (end-to-end
 * acknowledgement, SPEC §5). Oldest first; at most `maxInFlight` unacknowledged batches, so
 * a replay after a long outage advances at the pace the server acks and does not flood the
 * broker. A batch is the contiguous queue rows [firstId, lastId]; its id is `${firstId}-${lastId}`.
 * Because queue ids are never reused, that id names the same rows even after a restart, so a
 * late ack for a batch sent by a previous run still removes exactly its rows.
 */
import { PROTOCOL_VERSION, type Ack, type ReadingsBatch } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { DiskQueue, QueuedReading } from '../queue/disk-queue.ts';
import type { GatewayCounters } from '../stats.ts';

export interface BatchSenderOptions {
  queue: DiskQueue;
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
  /** Publishes the batch JSON on the readings topic at QoS 1; resolves on PUBACK. */
  publish(payload: string): Promise<void>;
}

interface InFlight {
  batchId: string;
  firstId: number;
  lastId: number;
  sentAtMs: number;
  /** A publish of this batch has not settled yet (no PUBACK). */
  publishing: boolean;
}

const BATCH_ID = /^(\d{1,16})-(\d{1,16})$/;

export class BatchSender {
  private readonly inflight = new Map<string, InFlight>();
  private highestSentId = 0;
  private online = false;
  private readonly monoMs: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: BatchSenderOptions) {
    this.monoMs = opts.monoMs ?? (() => performance.now());
    this.log = opts.logger.child({ component: 'batch-sender' });
  }

  inFlightCount(): number {
    return this.inflight.size;
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

  /** Sends new batches while there is room in flight. `partial` also sends a batch that is not full. */
  pump(partial: boolean): void {
    const max = this.opts.batchMaxReadings;
    while (this.online && this.inflight.size < this.opts.maxInFlight) {
      // Cheap check first: this runs after every committed frame, and reading rows costs more.
      const unsentAtMost = this.opts.queue.newestId() - this.highestSentId;
      if (unsentAtMost <= 0 || (!partial && unsentAtMost < max)) return;
      const rows = this.opts.queue.peekBatch(max, this.highestSentId);
      if (rows.length === 0 || (!partial && rows.length < max)) return;
      const b: InFlight = { batchId: `${rows[0]!.id}-${rows.at(-1)!.id}`, firstId: rows[0]!.id, lastId: rows.at(-1)!.id, sentAtMs: this.monoMs(), publishing: false };
      this.highestSentId = b.lastId;
      this.inflight.set(b.batchId, b);
      this.send(b, rows);
    }
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
    const range = known ?? parseBatchId(ack.batchId);
    if (!range) {
      this.opts.counters.badAcks++;
      this.log.warn({ batchId: ack.batchId.slice(0, 64) }, 'ack for a batch id this gateway never makes');
      return;
    }
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
    if (known) this.inflight.delete(ack.batchId);
    this.opts.counters.acked += ack.stored + ack.duplicates;
    this.opts.counters.rejectedByServer += ack.rejected.length;
    if (ack.rejected.length > 0) {
      this.log.warn({ batchId: ack.batchId, rejected: ack.rejected.length, first: ack.rejected.slice(0, 3) }, 'server rejected readings');
    }
    this.pump(false);
  }

  private resend(b: InFlight): void {
    const rows = this.opts.queue.peekRange(b.firstId, b.lastId);
    if (rows.length === 0) {
      // Every row of it was dropped by the queue bound meanwhile: nothing left to deliver.
      this.inflight.delete(b.batchId);
      return;
    }
    this.opts.counters.resentBatches++;
    b.sentAtMs = this.monoMs();
    this.send(b, rows);
  }

  private send(b: InFlight, rows: QueuedReading[]): void {
    const batch: ReadingsBatch = {
      v: PROTOCOL_VERSION,
      gatewayId: this.opts.gatewayId,
      batchId: b.batchId,
      sentAt: this.opts.now().toISOString(),
      readings: rows.map((r) => r.reading),
    };
    b.publishing = true;
    this.opts.publish(JSON.stringify(batch)).then(
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

function parseBatchId(batchId: string): { firstId: number; lastId: number } | null {
  const m = BATCH_ID.exec(batchId);
  if (!m) return null;
  const firstId = Number(m[1]);
  const lastId = Number(m[2]);
  return firstId >= 1 && firstId <= lastId ? { firstId, lastId } : null;
}
