/**
 * Uploads local alarm records on `…/alarms` (SPEC §5.9) once the link is up: oldest first, one
 * batch in flight, QoS 1, batch id `alarms:<firstRow>-<lastRow>`. A batch leaves the disk only
 * when the server's ack (on the gateway's ack topic, the readings' ack payload) covers all of
 * it; without an ack in `ackTimeoutMs`, or after a reconnect, it is sent again (the server
 * stores each `alarmId` once).
 */
import { MAX_ALARMS_PER_BATCH, PROTOCOL_VERSION, alarmsBatchSchema, topics, type Ack, type AlarmsBatch } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { SessionPublish } from '../publish/mqtt-publisher.ts';
import type { AlarmStore } from './alarm-store.ts';

const BATCH_PREFIX = 'alarms:';

export interface AlarmUploaderOptions {
  store: AlarmStore;
  gatewayId: string;
  ackTimeoutMs: number;
  logger: Logger;
  now: () => Date;
}

export class AlarmUploader {
  /** Records the server acknowledged since start. */
  uploaded = 0;
  private publish: SessionPublish | undefined;
  private inFlight: { first: number; last: number; count: number; timer: NodeJS.Timeout } | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: AlarmUploaderOptions) {
    this.log = opts.logger.child({ component: 'alarm-upload' });
  }

  onUp(publish: SessionPublish): void {
    this.publish = publish;
    this.clearInFlight();
    this.pump();
  }

  onDown(): void {
    this.publish = undefined;
    this.clearInFlight();
  }

  /** New records were stored. */
  pump(): void {
    const publish = this.publish;
    if (!publish || this.inFlight) return;
    const rows = this.opts.store.oldest(MAX_ALARMS_PER_BATCH);
    if (rows.length === 0) return;
    const first = rows[0]!.rowId;
    const last = rows[rows.length - 1]!.rowId;
    const batch: AlarmsBatch = {
      v: PROTOCOL_VERSION,
      gatewayId: this.opts.gatewayId,
      batchId: `${BATCH_PREFIX}${first}-${last}`,
      sentAt: this.opts.now().toISOString(),
      alarms: rows.map((r) => r.alarm),
    };
    const checked = alarmsBatchSchema.safeParse(batch);
    if (!checked.success) {
      // A gateway bug: keep the records (they are evidence) and say so loudly.
      this.log.error({ batchId: batch.batchId }, 'alarm batch fails its schema; not sent');
      return;
    }
    const timer = setTimeout(() => {
      this.log.warn({ batchId: batch.batchId }, 'alarm batch not acknowledged in time; sending again');
      this.inFlight = undefined;
      this.pump();
    }, this.opts.ackTimeoutMs);
    this.inFlight = { first, last, count: rows.length, timer };
    publish(topics.alarms(this.opts.gatewayId), JSON.stringify(batch), { qos: 1, retain: false }).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message, batchId: batch.batchId }, 'alarm batch not published; sent again on reconnect');
    });
  }

  /** An ack from the ack topic: true when it was for an alarm batch (handled here). */
  onAck(ack: Ack): boolean {
    if (!ack.batchId.startsWith(BATCH_PREFIX)) return false;
    const f = this.inFlight;
    const covered = ack.stored + ack.duplicates + ack.rejected.length;
    if (!f || ack.batchId !== `${BATCH_PREFIX}${f.first}-${f.last}` || covered < f.count) {
      this.log.warn({ batchId: ack.batchId }, 'ack for an unknown or partial alarm batch ignored');
      return true;
    }
    if (ack.rejected.length > 0) this.log.error({ batchId: ack.batchId, rejected: ack.rejected.slice(0, 5) }, 'server refused alarm records; removed');
    this.opts.store.remove(f.first, f.last);
    this.uploaded += ack.stored + ack.duplicates;
    this.clearInFlight();
    this.log.info({ batchId: ack.batchId, stored: ack.stored, duplicates: ack.duplicates }, 'alarm records acknowledged');
    this.pump();
    return true;
  }

  close(): void {
    this.onDown();
  }

  private clearInFlight(): void {
    if (this.inFlight) clearTimeout(this.inFlight.timer);
    this.inFlight = undefined;
  }
}
