/**
 * Ingest: what the server does with each message a gateway publishes. For a readings batch the
 * order is the reliability contract (SPEC §5): validate -> commit to the store -> ack on the
 * gateway's ack topic -> hand the newly stored readings to the alert engine. A batch whose commit
 * fails is not acked, so the gateway keeps it and sends it again.
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
import type { ReadingStore } from '../storage/reading-store.ts';
import { parseBatch, type Rejection } from './batch-parser.ts';
import { createIngestCounters, type IngestCounters, type IngestRejectReason } from './counters.ts';

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
}

/** In-memory activity of a gateway since server start. */
export interface GatewayActivity {
  lastMessageAt: string;
  lastBatchAt: string | null;
}

/** Most unregistered sensor ids remembered for "log once"; bounds memory against hostile ids. */
const MAX_WARNED_SENSORS = 1000;

export class Ingest {
  readonly counters: IngestCounters = createIngestCounters();
  private readonly activity = new Map<string, GatewayActivity>();
  private readonly warnedSensors = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly deps: IngestDeps) {
    this.log = deps.logger.child({ component: 'ingest' });
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
    const batch = parseBatch(payload, gatewayId);
    if (!batch.ok) {
      this.reject(batch.reason, gatewayId, batch.error);
      if (batch.refuse) {
        this.counters.readingsRejected += batch.refuse.rejected.length;
        this.sendAck(gatewayId, { batchId: batch.refuse.batchId, stored: 0, duplicates: 0, rejected: batch.refuse.rejected });
      }
      return;
    }
    const { envelope, valid, rejected } = batch;
    const log = this.log.child({ gatewayId, batchId: envelope.batchId });
    if (rejected.length > 0) {
      this.counters.readingsRejected += rejected.length;
      log.warn({ rejected: rejected.length, first: rejected[0] }, 'readings rejected');
    }
    let result;
    try {
      result = this.deps.store.insertBatch(gatewayId, valid, receivedAt);
    } catch (err) {
      // Not acked: the gateway keeps the batch and sends it again later.
      this.counters.rejected.store_failed++;
      log.error({ err }, 'batch not stored');
      return;
    }
    this.counters.readingsStored += result.stored.length;
    this.counters.duplicates += result.duplicates;
    this.counters.conflicts += result.conflicts;
    if (result.conflicts > 0) log.warn({ conflicts: result.conflicts }, 'duplicate keys with different data');
    this.noteUnregistered(result.stored.map((r) => r.sensorId), log);
    log.debug({ stored: result.stored.length, duplicates: result.duplicates }, 'batch stored');
    this.sendAck(gatewayId, {
      batchId: envelope.batchId,
      stored: result.stored.length,
      duplicates: result.duplicates,
      rejected,
    });
    if (result.stored.length === 0) return;
    const engine = this.deps.engine();
    if (!engine) return;
    try {
      engine.onStoredReadings(result.stored);
    } catch (err) {
      // Detection must never take ingest down; the readings are stored and acked already.
      this.counters.engineErrors++;
      log.error({ err }, 'alert engine failed on stored readings');
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
    const ack: Ack = { v: PROTOCOL_VERSION, ...body };
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

  private noteUnregistered(sensorIds: readonly string[], log: Logger): void {
    for (const id of sensorIds) {
      if (this.deps.knownSensors.has(id)) continue;
      this.counters.readingsUnregisteredSensor++;
      if (!this.warnedSensors.has(id) && this.warnedSensors.size < MAX_WARNED_SENSORS) {
        this.warnedSensors.add(id);
        log.warn({ sensorId: id }, 'readings from a sensor not in config');
      }
    }
  }
}

export type { Rejection };
