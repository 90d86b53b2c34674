/**
 * The server side of the gateways' control plane (SPEC §5.8, §5.9):
 * - remote configuration: a desired config is stored with the next version and published
 *   retained on `kentongan/v1/gw/<id>/config`; the embedded broker keeps retained messages in
 *   memory only, so every desired config is published again when the server starts;
 * - `config-status` from a gateway: stored, so the API shows desired vs applied and the error;
 * - `alarms` from a gateway: each record validated on its own, stored once per
 *   (gateway, alarmId), then acknowledged on the gateway's ack topic like a readings batch
 *   (stored + duplicates + rejected = the records of the batch).
 * Bad input never throws out of here: it is counted and logged.
 */
import {
  PROTOCOL_VERSION,
  alarmsBatchSchema,
  configStatusSchema,
  formatZodError,
  localAlarmSchema,
  parseGatewayTopic,
  parsePayload,
  topics,
  type Ack,
  type ConfigPush,
  type LocalAlarm,
  type OutputCommand,
  type OutputPattern,
} from '@kentongan/firmware-protocol';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PublishFn } from '../ingest/ingest.ts';
import type { DesiredConfig, GatewayControlStore } from './control-store.ts';

/** Envelope first, records one by one (a bad record does not cost the good ones). */
const alarmsEnvelopeSchema = alarmsBatchSchema.extend({ alarms: z.array(z.unknown()).min(1).max(100) });

export interface GatewayControlCounters {
  configsPushed: number;
  outputCommandsSent: number;
  configStatusReceived: number;
  configStatusInvalid: number;
  alarmBatchesReceived: number;
  alarmBatchesInvalid: number;
  alarmsStored: number;
  alarmsDuplicate: number;
  alarmsRejected: number;
}

export interface GatewayControlServiceDeps {
  store: GatewayControlStore;
  publish: PublishFn;
  logger: Logger;
  now: () => Date;
}

export class GatewayControlService {
  readonly counters: GatewayControlCounters = {
    configsPushed: 0,
    outputCommandsSent: 0,
    configStatusReceived: 0,
    configStatusInvalid: 0,
    alarmBatchesReceived: 0,
    alarmBatchesInvalid: 0,
    alarmsStored: 0,
    alarmsDuplicate: 0,
    alarmsRejected: 0,
  };
  private readonly log: Logger;

  constructor(private readonly deps: GatewayControlServiceDeps) {
    this.log = deps.logger.child({ component: 'gateway-control' });
  }

  get store(): GatewayControlStore {
    return this.deps.store;
  }

  /** Stores `config` as the gateway's next version and publishes it retained. */
  async pushConfig(gatewayId: string, config: Record<string, unknown>): Promise<DesiredConfig> {
    const desired = this.deps.store.setDesired(gatewayId, config, this.deps.now().toISOString());
    await this.publishDesired(desired);
    this.counters.configsPushed++;
    this.log.info({ gatewayId, version: desired.version }, 'gateway config pushed');
    return desired;
  }

  /** Sends an output command (siren test, silence) to a gateway, QoS 1, not retained. */
  async sendOutput(gatewayId: string, c: { pattern: OutputPattern; durationS: number; outputId?: string; reason: string }): Promise<OutputCommand> {
    const cmd: OutputCommand = {
      v: PROTOCOL_VERSION,
      commandId: randomUUID(),
      ...(c.outputId ? { outputId: c.outputId } : {}),
      pattern: c.pattern,
      durationS: c.durationS,
      issuedAt: this.deps.now().toISOString(),
      reason: c.reason,
    };
    await this.deps.publish(topics.output(gatewayId), JSON.stringify(cmd), { qos: 1, retain: false });
    this.counters.outputCommandsSent++;
    this.log.info({ gatewayId, commandId: cmd.commandId, pattern: cmd.pattern, durationS: cmd.durationS }, 'output command sent');
    return cmd;
  }

  /** Publishes every stored desired config again (retained messages do not survive a restart). */
  async republishAll(): Promise<void> {
    for (const d of this.deps.store.allDesired()) {
      await this.publishDesired(d).catch((err: unknown) => this.log.warn({ gatewayId: d.gatewayId, err: (err as Error).message }, 'desired config not republished'));
    }
  }

  /** A gateway message on `config-status` or `alarms`: handled, true. Any other kind: false. */
  handleMessage(gatewayId: string, topic: string, payload: Buffer): boolean {
    const parsed = parseGatewayTopic(topic);
    if (!parsed || parsed.gatewayId !== gatewayId) return false;
    if (parsed.kind === 'config-status') {
      this.onConfigStatus(gatewayId, payload);
      return true;
    }
    if (parsed.kind === 'alarms') {
      this.onAlarms(gatewayId, payload);
      return true;
    }
    return false;
  }

  private async publishDesired(d: DesiredConfig): Promise<void> {
    const push: ConfigPush = { v: PROTOCOL_VERSION, version: d.version, issuedAt: d.issuedAt, config: d.config };
    await this.deps.publish(topics.config(d.gatewayId), JSON.stringify(push), { qos: 1, retain: true });
  }

  private onConfigStatus(gatewayId: string, payload: Buffer): void {
    const parsed = parsePayload(configStatusSchema, payload);
    if (!parsed.ok || parsed.value.gatewayId !== gatewayId) {
      this.counters.configStatusInvalid++;
      this.log.warn({ gatewayId, error: parsed.ok ? 'gatewayId: differs from the topic' : parsed.error.slice(0, 300) }, 'invalid config status ignored');
      return;
    }
    this.counters.configStatusReceived++;
    this.deps.store.setStatus(gatewayId, parsed.value, this.deps.now().toISOString());
    if (parsed.value.error) this.log.warn({ gatewayId, refusedVersion: parsed.value.refusedVersion, appliedVersion: parsed.value.appliedVersion }, 'gateway refused a config');
  }

  private onAlarms(gatewayId: string, payload: Buffer): void {
    this.counters.alarmBatchesReceived++;
    const envelope = parsePayload(alarmsEnvelopeSchema, payload);
    if (!envelope.ok || envelope.value.gatewayId !== gatewayId) {
      this.counters.alarmBatchesInvalid++;
      this.log.warn({ gatewayId, error: envelope.ok ? 'gatewayId: differs from the topic' : envelope.error.slice(0, 300) }, 'invalid alarms batch');
      this.ackUnreadable(gatewayId, payload);
      return;
    }
    const good: LocalAlarm[] = [];
    const rejected: Ack['rejected'] = [];
    envelope.value.alarms.forEach((raw, index) => {
      const r = localAlarmSchema.safeParse(raw);
      if (r.success) good.push(r.data);
      else rejected.push({ index, reason: formatZodError(r.error).slice(0, 200) });
    });
    let stored: number;
    try {
      stored = this.deps.store.addAlarms(gatewayId, good, this.deps.now().toISOString());
    } catch (err) {
      // Not acked: the gateway keeps the records and sends them again.
      this.log.error({ gatewayId, err: (err as Error).message }, 'alarm records not stored');
      return;
    }
    this.counters.alarmsStored += stored;
    this.counters.alarmsDuplicate += good.length - stored;
    this.counters.alarmsRejected += rejected.length;
    for (const a of good) {
      this.log.warn({ gatewayId, alarmId: a.alarmId, ruleId: a.ruleId, from: a.from, to: a.to, at: a.at }, 'edge alarm received: the gateway warned on its own while cut off');
    }
    this.sendAck(gatewayId, { v: PROTOCOL_VERSION, batchId: envelope.value.batchId, stored, duplicates: good.length - stored, rejected, serverTime: this.deps.now().toISOString() });
  }

  /** SPEC §5.5 for alarms: a batch with a readable id and records is acked with all of them refused. */
  private ackUnreadable(gatewayId: string, payload: Buffer): void {
    let json: { v?: unknown; batchId?: unknown; alarms?: unknown };
    try {
      json = JSON.parse(payload.toString()) as typeof json;
    } catch {
      return;
    }
    if (json === null || typeof json !== 'object' || json.v !== PROTOCOL_VERSION) return;
    if (typeof json.batchId !== 'string' || json.batchId.length === 0 || json.batchId.length > 64 || !Array.isArray(json.alarms)) return;
    const n = Math.min(json.alarms.length, 100);
    this.counters.alarmsRejected += n;
    const rejected = Array.from({ length: n }, (_, index) => ({ index, reason: 'batch envelope invalid / amplop batch tidak sah' }));
    this.sendAck(gatewayId, { v: PROTOCOL_VERSION, batchId: json.batchId, stored: 0, duplicates: 0, rejected, serverTime: this.deps.now().toISOString() });
  }

  private sendAck(gatewayId: string, ack: Ack): void {
    this.deps.publish(topics.ack(gatewayId), JSON.stringify(ack), { qos: 1, retain: false }).catch((err: unknown) =>
      this.log.warn({ gatewayId, err: (err as Error).message }, 'alarm ack not published; the gateway sends the batch again'),
    );
  }
}
