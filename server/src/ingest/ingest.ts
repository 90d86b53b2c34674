/**
 * Ingest: what the server does with each message a gateway publishes. For a readings batch the
 * order is the reliability contract (SPEC §5): validate -> commit to the store -> ack on the
 * gateway's ack topic -> hand the newly stored readings to the alert engine. A batch whose commit
 * fails is not acked, so the gateway keeps it and sends it again.
 *
 * Valid batches are committed in groups (`group-commit.ts`): several batches, from any gateways,
 * share one transaction and one fsync; each is acked only after that commit, then all their new
 * readings go to the engine in one call, in event-time order. The engine keeps its own
 * transaction after ours (two commits per flush, not one): run inside ours as a savepoint, its
 * after-commit effects (listeners, retained area levels, notifications) would fire before our
 * commit, and a failed commit would leave them announced for alerts that were rolled back.
 *
 * Bad input never throws out of here: it is counted, logged and, where possible, answered.
 */
import {
  PROTOCOL_VERSION,
  ackSchema,
  formatZodError,
  healthSchema,
  parseGatewayTopic,
  statusSchema,
  topics,
  type Ack,
} from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { AlertEngine } from '../alerts/types.ts';
import type { GatewayStateStore } from '../storage/gateway-state-store.ts';
import { byEventTime, type ReadingStore, type StoredReading } from '../storage/reading-store.ts';
import { parseBatch, type Rejection } from './batch-parser.ts';
import { createIngestCounters, type IngestCounters, type IngestRejectReason } from './counters.ts';
import { GroupCommitter, type FlushOutcome, type GroupCommitOptions } from './group-commit.ts';

/** Publishes a server message (an ack); resolves once the broker has taken it. */
export type PublishFn = (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => Promise<void>;

export interface IngestDeps {
  store: ReadingStore;
  gatewayState: GatewayStateStore;
  /** Only `onStoredReadings` is used; the engine may be attached after construction. */
  engine: () => Pick<AlertEngine, 'onStoredReadings'> | null;
  publish: PublishFn;
  logger: Logger;
  now: () => Date;
  /** Sensor ids from config; readings of other sensors are stored too, but counted and logged. */
  knownSensors: ReadonlySet<string>;
  /** Sensors bound to one gateway (`sensors[].gatewayId`): others may not send their readings. */
  sensorGateway?: ReadonlyMap<string, string>;
  /** When queued batches are committed; defaults in `DEFAULT_GROUP_COMMIT`. */
  groupCommit?: GroupCommitOptions;
}

/** What a queued batch needs for its ack once it is committed. */
interface PendingAck {
  batchId: string;
  rejected: Rejection[];
}

/** In-memory activity of a gateway since server start. */
export interface GatewayActivity {
  lastMessageAt: string;
  lastBatchAt: string | null;
}

/** How far ahead of the server clock a reading's timestamp may be and still reach detection. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Most unregistered sensor ids remembered for "log once"; bounds memory against hostile ids. */
const MAX_WARNED_SENSORS = 1000;

export class Ingest {
  readonly counters: IngestCounters = createIngestCounters();
  private readonly activity = new Map<string, GatewayActivity>();
  private readonly warnedSensors = new Set<string>();
  private readonly log: Logger;
  private readonly committer: GroupCommitter<PendingAck>;

  constructor(private readonly deps: IngestDeps) {
    this.log = deps.logger.child({ component: 'ingest' });
    this.committer = new GroupCommitter<PendingAck>(
      deps.store,
      {
        onFlushed: (outcomes) => this.afterCommit(outcomes),
        onGroupFailed: (err, batches, readings) => {
          this.counters.flushFailures++;
          // With more than one batch, each is then tried alone (see group-commit.ts).
          this.log.error({ err, batches, readings, retriedAlone: batches > 1 }, 'group commit failed');
        },
        onHandlerError: (err) => this.log.error({ err }, 'after-commit handling failed'),
      },
      deps.groupCommit,
    );
  }

  /** Commits the queued batches now (acks and detection follow). */
  flush(): void {
    this.committer.flush();
  }

  /**
   * Commits what is queued (and acks it, while the broker is still open), then writes every later
   * batch at once, on its own, so that no timer is left behind. Call before the broker and the
   * database close; a batch arriving after the database closed is not stored and not acked, and
   * its gateway sends it again.
   */
  stop(): void {
    this.committer.stop();
  }

  /** Batches received and waiting for the next group commit. */
  pendingBatches(): number {
    return this.committer.pending;
  }

  /**
   * Handles one message published by an authenticated gateway.
   * @param clientGatewayId the id the client authenticated as.
   */
  handleMessage(clientGatewayId: string, topic: string, payload: Buffer): void {
    const parsed = parseGatewayTopic(topic);
    if (!parsed || parsed.gatewayId !== clientGatewayId) {
      // The broker's authorizePublish already refuses this; kept as a second line of defence.
      this.reject('wrong_topic', clientGatewayId, `topic ${topic.slice(0, 128)} is not this gateway's`);
      return;
    }
    const at = this.deps.now();
    const act = this.activity.get(clientGatewayId) ?? { lastMessageAt: at.toISOString(), lastBatchAt: null };
    act.lastMessageAt = at.toISOString();
    this.activity.set(clientGatewayId, act);
    switch (parsed.kind) {
      case 'readings':
        this.handleBatch(clientGatewayId, payload, at);
        act.lastBatchAt = at.toISOString();
        return;
      case 'status':
        this.handleStatus(clientGatewayId, payload, at);
        return;
      case 'health':
        this.handleHealth(clientGatewayId, payload, at);
        return;
      default:
        this.reject('wrong_topic', clientGatewayId, `no ingest for topic kind ${parsed.kind.slice(0, 32)}`);
    }
  }

  /** What each gateway sent last, since this server started. */
  gatewayActivity(): ReadonlyMap<string, GatewayActivity> {
    return this.activity;
  }

  private handleBatch(gatewayId: string, payload: Buffer, receivedAt: Date): void {
    this.counters.batchesReceived++;
    const batch = parseBatch(payload, gatewayId, (r) => {
      const owner = this.deps.sensorGateway?.get(r.sensorId);
      if (owner === undefined || owner === gatewayId) return null;
      this.counters.readingsWrongGateway++;
      return `sensor ${r.sensorId} belongs to gateway ${owner} / sensor ini milik gateway ${owner}`;
    });
    if (!batch.ok) {
      this.reject(batch.reason, gatewayId, batch.error);
      if (batch.refuse) {
        this.counters.readingsRejected += batch.refuse.rejected.length;
        this.sendAck(gatewayId, { batchId: batch.refuse.batchId, stored: 0, duplicates: 0, rejected: batch.refuse.rejected });
      }
      return;
    }
    const { envelope, valid, rejected } = batch;
    if (rejected.length > 0) {
      this.counters.readingsRejected += rejected.length;
      this.log.warn({ gatewayId, batchId: envelope.batchId, rejected: rejected.length, first: rejected[0] }, 'readings rejected');
    }
    // Acked only after the group commit that writes it (afterCommit), even when nothing in it
    // is valid: one path for every batch keeps each gateway's acks in arrival order.
    this.committer.enqueue(gatewayId, valid, receivedAt, { batchId: envelope.batchId, rejected });
  }

  /**
   * Readings stamped more than `MAX_FUTURE_SKEW_MS` ahead of the server clock are stored (nothing
   * measured is lost) but kept from detection: detection ignores anything older than the newest
   * reading it has seen, so one reading dated years ahead by a gateway with a wrong clock would
   * switch a rule off until then.
   */
  private withoutFutureReadings(readings: StoredReading[]): StoredReading[] {
    const limit = this.deps.now().getTime() + MAX_FUTURE_SKEW_MS;
    const kept = readings.filter((r) => Date.parse(r.ts) <= limit);
    const skipped = readings.length - kept.length;
    if (skipped > 0) {
      this.counters.readingsFutureNotEvaluated += skipped;
      const first = readings.find((r) => Date.parse(r.ts) > limit)!;
      this.log.warn(
        { skipped, gatewayId: first.gatewayId, sensorId: first.sensorId, ts: first.ts },
        'readings stamped in the future stored but not evaluated: check the gateway clock',
      );
    }
    return kept;
  }

  /** After a group commit: counters and the ack of each batch, then detection on everything new. */
  private afterCommit(outcomes: FlushOutcome<PendingAck>[]): void {
    this.counters.flushes++;
    const fresh: StoredReading[] = [];
    let storedBatches = 0;
    for (const outcome of outcomes) {
      const { gatewayId } = outcome.batch;
      const { batchId, rejected } = outcome.batch.tag;
      if (!outcome.ok) {
        // Not acked: the gateway keeps the batch and sends it again later.
        this.counters.rejected.store_failed++;
        this.log.error({ err: outcome.error, gatewayId, batchId }, 'batch not stored');
        continue;
      }
      const { stored, duplicates, conflicts } = outcome.result;
      this.counters.readingsStored += stored.length;
      this.counters.duplicates += duplicates;
      this.counters.conflicts += conflicts;
      if (conflicts > 0) this.log.warn({ gatewayId, batchId, conflicts }, 'duplicate keys with different data');
      this.noteUnregistered(stored, gatewayId);
      this.sendAck(gatewayId, { batchId, stored: stored.length, duplicates, rejected });
      if (stored.length > 0) storedBatches++;
      for (const r of stored) fresh.push(r);
    }
    this.log.debug({ batches: outcomes.length, stored: fresh.length }, 'batches committed');
    if (fresh.length === 0) return;
    // Each batch's readings come sorted; several batches are merged into one event-time order.
    if (storedBatches > 1) fresh.sort(byEventTime);
    const engine = this.deps.engine();
    if (!engine) return;
    const evaluated = this.withoutFutureReadings(fresh);
    if (evaluated.length === 0) return;
    try {
      engine.onStoredReadings(evaluated);
    } catch (err) {
      // Detection must never take ingest down; the readings are stored and acked already.
      this.counters.engineErrors++;
      this.log.error({ err, readings: fresh.length }, 'alert engine failed on stored readings');
    }
  }

  private handleStatus(gatewayId: string, payload: Buffer, at: Date): void {
    const value = this.parseGatewayPayload(statusSchema, 'invalid_status', gatewayId, payload);
    if (!value) return;
    this.counters.statusMessages++;
    this.recordSafely(() => this.deps.gatewayState.recordStatus(value, at), gatewayId);
    this.log.info({ gatewayId, state: value.state, software: value.software }, 'gateway status');
  }

  private handleHealth(gatewayId: string, payload: Buffer, at: Date): void {
    const value = this.parseGatewayPayload(healthSchema, 'invalid_health', gatewayId, payload);
    if (!value) return;
    this.counters.healthMessages++;
    this.recordSafely(() => this.deps.gatewayState.recordHealth(value, at), gatewayId);
    this.log.debug({ gatewayId, queueDepth: value.queueDepth }, 'gateway health');
  }

  private parseGatewayPayload<T extends { gatewayId: string }>(
    schema: z.ZodType<T>,
    reason: IngestRejectReason,
    gatewayId: string,
    payload: Buffer,
  ): T | null {
    if (payload.length > 64 * 1024) {
      this.reject('too_large', gatewayId, `payload too large: ${payload.length} bytes`);
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      this.reject('invalid_json', gatewayId, `invalid JSON: ${(err as Error).message}`);
      return null;
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      this.reject(reason, gatewayId, formatZodError(result.error));
      return null;
    }
    if (result.data.gatewayId !== gatewayId) {
      this.reject('gateway_mismatch', gatewayId, `gatewayId "${result.data.gatewayId}" does not match the topic`);
      return null;
    }
    return result.data;
  }

  private recordSafely(write: () => void, gatewayId: string): void {
    try {
      write();
    } catch (err) {
      this.log.error({ err, gatewayId }, 'gateway state not stored');
    }
  }

  private sendAck(gatewayId: string, body: Omit<Ack, 'v'>): void {
    // serverTime (optional in the contract) lets the gateway notice that its own clock is wrong.
    const ack: Ack = { v: PROTOCOL_VERSION, ...body, serverTime: this.deps.now().toISOString() };
    const checked = ackSchema.safeParse(ack);
    if (!checked.success) {
      // A bug on our side; never send a malformed ack.
      this.counters.ackPublishErrors++;
      this.log.error({ gatewayId, error: formatZodError(checked.error) }, 'ack failed its own schema');
      return;
    }
    this.deps.publish(topics.ack(gatewayId), JSON.stringify(checked.data), { qos: 1, retain: false }).then(
      () => {
        this.counters.batchesAcked++;
      },
      (err: unknown) => {
        this.counters.ackPublishErrors++;
        this.log.error({ err, gatewayId, batchId: body.batchId }, 'ack not published');
      },
    );
  }

  private reject(reason: IngestRejectReason, gatewayId: string, error: string): void {
    this.counters.rejected[reason]++;
    this.log.warn({ gatewayId, reason, error: error.slice(0, 500) }, 'message rejected');
  }

  private noteUnregistered(stored: readonly StoredReading[], gatewayId: string): void {
    for (const { sensorId } of stored) {
      if (this.deps.knownSensors.has(sensorId)) continue;
      this.counters.readingsUnregisteredSensor++;
      if (!this.warnedSensors.has(sensorId) && this.warnedSensors.size < MAX_WARNED_SENSORS) {
        this.warnedSensors.add(sensorId);
        this.log.warn({ gatewayId, sensorId }, 'readings from a sensor not in config');
      }
    }
  }
}

export type { Rejection };
