/**
 * The gateway's MQTT side (SPEC §5): one mqtt.js client speaking MQTT 3.1.1 (the embedded aedes
 * broker does not speak 5) with a persistent session (clean=false, clientId = gatewayId).
 * - birth: `online` status, retained QoS 1, on every connect; will: `offline`, retained QoS 1;
 * - subscribes to its ack topic (QoS 1) before sending any batch, so no ack can be missed; if the
 *   broker refuses it (SUBACK 0x80: wrong credentials or ACL) the connection is dropped without
 *   publishing anything, counted, and tried again on the next reconnect;
 * - batches go out through BatchSender; acks are validated with ackSchema, bad ones counted;
 * - health every healthIntervalS at QoS 0 (a lost health message is replaced by the next);
 * - reconnects are driven here, not by mqtt.js (its reconnectPeriod is one fixed delay): after a
 *   lost connection or a failed attempt the next attempt waits a capped exponential delay with full
 *   jitter (transport/backoff.ts), from `reconnectPeriodMs` up to `reconnectMaxMs`; the attempt
 *   count restarts once a session is set up (ack subscribed, birth published).
 */
import { ackSchema, parsePayload, PROTOCOL_VERSION, topics, type Ack, type GatewayStatus } from '@kentongan/firmware-protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.ts';
import type { DiskQueue } from '../queue/disk-queue.ts';
import type { GatewayCounters } from '../stats.ts';
import { fullJitterDelayMs } from '../transport/backoff.ts';
import { BatchSender } from './batch-sender.ts';
import { ClockCheck } from './clock-check.ts';
import { buildHealth } from './health.ts';
import { readLinkQuality, type LinkQuality } from './link-quality.ts';

export interface MqttPublisherOptions {
  config: GatewayConfig;
  queue: DiskQueue;
  /** The database's queue id (readQueueId), prefix of every batch id. */
  queueId: string;
  counters: GatewayCounters;
  logger: Logger;
  now: () => Date;
  /** Kept for callers; uptime in health is measured on the monotonic clock from construction. */
  startedAt: Date;
  /** `software` field of the status messages, e.g. `kentongan-gateway/0.1.0`. */
  software: string;
  /** Reading timestamps held back by the monotonic rule (SensorClock.clamped), for health. */
  clampedReadings?: () => number;
  /** Random source for the reconnect jitter (tests make it deterministic). */
  random?: () => number;
  /** More topics on the same session (remote config, outputs, local alarms); see SessionHooks. */
  session?: SessionHooks;
}

/** Publishes on the gateway's session; rejects when not connected. */
export type SessionPublish = (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => Promise<void>;

/**
 * Hooks for gateway parts that need the same MQTT session (one client id per gateway, so a
 * second client would take the session over). Subscriptions are made after the ack topic and
 * before the birth message; a refused one is logged, not fatal (readings still flow).
 */
export interface SessionHooks {
  /** Filters subscribed with QoS 1 on every connect. */
  subscriptions: readonly string[];
  /** A message on one of `subscriptions`. */
  onMessage(topic: string, payload: Buffer): void;
  /** An ack not meant for the readings queue (e.g. an alarms batch): return true when it was handled. */
  onAck?(ack: Ack): boolean;
  /** The session is set up (subscribed, birth published). */
  onUp(publish: SessionPublish): void;
  /** The connection is lost or stopped. */
  onDown(): void;
}

/** How long a graceful stop waits for the broker to acknowledge the `offline` status. */
const STOP_STATUS_TIMEOUT_MS = 2000;
/** Repeated connection errors (broker down) are logged at most this often. */
const ERROR_LOG_INTERVAL_MS = 30_000;

export class MqttPublisher {
  readonly sender: BatchSender;
  private client: MqttClient | undefined;
  private connectedNow = false;
  private generation = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private lastErrorLogMs = -Infinity;
  private lastRefusalLogMs = -Infinity;
  private lastLinkErrorLogMs = -Infinity;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private everConnected = false;
  /** Monotonic start, so uptime does not jump when the wall clock is stepped (NTP, a wrong RTC). */
  private readonly startMono = performance.now();
  private stopped = false;
  readonly clock: ClockCheck;
  private readonly log: Logger;
  private readonly topic;

  constructor(private readonly opts: MqttPublisherOptions) {
    const id = opts.config.gatewayId;
    this.topic = { readings: topics.readings(id), ack: topics.ack(id), status: topics.status(id), health: topics.health(id) };
    this.log = opts.logger.child({ component: 'mqtt' });
    this.clock = new ClockCheck({ ...opts.config.clock, now: opts.now, logger: opts.logger.child({ component: 'clock' }) });
    this.sender = new BatchSender({
      queue: opts.queue,
      queueId: opts.queueId,
      gatewayId: id,
      batchMaxReadings: opts.config.mqtt.batchMaxReadings,
      maxInFlight: opts.config.mqtt.maxInFlightBatches,
      ackTimeoutMs: opts.config.mqtt.ackTimeoutMs,
      counters: opts.counters,
      logger: opts.logger,
      now: opts.now,
      replayMaxBatchesPerS: opts.config.replay.maxBatchesPerS,
      liveLagReadings: opts.config.replay.liveLagReadings,
      onServerTime: (serverTime, rttMs) => this.clock.onServerTime(serverTime, rttMs),
      publish: async (payload) => {
        const client = this.client;
        if (!client) throw new Error('client stopped');
        await client.publishAsync(this.topic.readings, payload, { qos: 1 });
      },
    });
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  start(): void {
    const { config } = this.opts;
    const m = config.mqtt;
    const client = mqtt.connect(m.url, {
      protocolVersion: 4,
      clean: false,
      clientId: config.gatewayId,
      username: m.username,
      password: m.password,
      // 0: mqtt.js does not reconnect by itself; scheduleReconnect does, with back-off and jitter.
      reconnectPeriod: 0,
      keepalive: m.keepaliveS,
      connectTimeout: 30_000,
      will: { topic: this.topic.status, payload: this.statusPayload('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => void this.onConnect(client));
    client.on('close', () => {
      this.onClose();
      this.scheduleReconnect(client);
    });
    client.on('reconnect', () => {
      // The will says when the connection that set it was opened: refresh it for this attempt.
      if (client.options.will) client.options.will.payload = this.statusPayload('offline');
    });
    client.on('error', (err) => this.logError(err));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    this.batchTimer = setInterval(
      () =>
        this.guard('batch tick', () => {
          this.sender.checkTimeouts();
          this.sender.pump(true);
        }),
      m.batchIntervalMs,
    );
    this.healthTimer = setInterval(() => this.publishHealth(), config.healthIntervalS * 1000);
  }

  /** New readings were queued: send full batches now (partial ones wait for the batch interval). */
  notify(): void {
    this.guard('notify', () => this.sender.pump(false));
  }

  /** Graceful stop: `offline` status (retained) first, then DISCONNECT, so the will is not needed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.batchTimer);
    clearInterval(this.healthTimer);
    clearTimeout(this.reconnectTimer);
    this.sender.close();
    const client = this.client;
    if (!client) return;
    this.generation++;
    if (client.connected) {
      try {
        await withTimeout(
          client.publishAsync(this.topic.status, this.statusPayload('offline'), { qos: 1, retain: true }),
          STOP_STATUS_TIMEOUT_MS,
        );
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'offline status not confirmed');
      }
      await withTimeout(client.endAsync(), STOP_STATUS_TIMEOUT_MS).catch(() => client.endAsync(true));
    } else {
      await client.endAsync(true);
    }
    this.client = undefined;
    this.connectedNow = false;
    this.sender.setOnline(false);
  }

  private async onConnect(client: MqttClient): Promise<void> {
    const gen = ++this.generation;
    this.log.info({ url: redactUrl(this.opts.config.mqtt.url) }, 'mqtt connected');
    try {
      // Subscribe before any batch goes out, so the ack cannot arrive before we listen.
      const refused = await this.subscribeAck(client);
      if (gen !== this.generation) return;
      // Without acks nothing ever leaves the queue and every batch would be resent for ever:
      // this connection is useless, so drop it (the client reconnects after reconnectPeriodMs
      // and subscribes again) and publish nothing on it, not even the birth message.
      if (refused) {
        this.onAckSubscriptionRefused(client);
        return;
      }
      await this.subscribeSession(client);
      await client.publishAsync(this.topic.status, this.statusPayload('online'), { qos: 1, retain: true });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'mqtt session set-up failed; waiting for reconnect');
      return;
    }
    if (gen !== this.generation || !client.connected) return;
    this.reconnectAttempt = 0;
    if (this.everConnected) this.opts.counters.reconnects++;
    this.everConnected = true;
    this.connectedNow = true;
    this.sender.setOnline(true);
    this.publishHealth();
    this.opts.session?.onUp(async (topic, payload, options) => {
      if (this.client !== client || !client.connected) throw new Error('not connected');
      await client.publishAsync(topic, payload, options);
    });
  }

  /** The session hooks' subscriptions; a refusal is logged (readings still flow without them). */
  private async subscribeSession(client: MqttClient): Promise<void> {
    const filters = this.opts.session?.subscriptions ?? [];
    if (filters.length === 0) return;
    const grants = await client.subscribeAsync([...filters], { qos: 1 }).catch((err: unknown) => {
      const granted = (err as { packet?: { granted?: unknown } }).packet?.granted;
      if (Array.isArray(granted)) return granted.map((qos, i) => ({ topic: filters[i] ?? '', qos: qos as number }));
      throw err;
    });
    const refused = grants.filter((g) => g.qos >= 0x80).map((g) => g.topic);
    if (refused.length > 0) this.log.warn({ refused }, 'broker refused control subscriptions; remote config and outputs unavailable');
  }

  /** Subscribes to the ack topic; true when the broker refused it (SUBACK 0x80, MQTT 3.1.1 §3.9.3). */
  private async subscribeAck(client: MqttClient): Promise<boolean> {
    try {
      const [grant] = await client.subscribeAsync(this.topic.ack, { qos: 1 });
      return grant !== undefined && grant.qos >= 0x80;
    } catch (err) {
      // mqtt.js 5 rejects a refused subscription with the SUBACK attached (ErrorWithSubackPacket).
      const granted = (err as { packet?: { granted?: unknown } }).packet?.granted;
      if (Array.isArray(granted) && granted.some((g) => typeof g === 'number' && g >= 0x80)) return true;
      throw err;
    }
  }

  private onAckSubscriptionRefused(client: MqttClient): void {
    const n = ++this.opts.counters.ackSubscribeRefused;
    // Logged the first time and then at most every ERROR_LOG_INTERVAL_MS: the retry runs every reconnect period.
    const now = Date.now();
    if (n === 1 || now - this.lastRefusalLogMs >= ERROR_LOG_INTERVAL_MS) {
      this.lastRefusalLogMs = now;
      this.log.error(
        { topic: this.topic.ack, username: this.opts.config.mqtt.username, refusals: n },
        'broker refused the ack subscription; not publishing, will reconnect and retry: check the MQTT username/password and the broker ACL for this topic',
      );
    }
    // Destroying the socket is what a network drop does: mqtt.js emits close and reconnects.
    client.stream.destroy();
  }

  /** Next connection attempt after a capped exponential delay with full jitter. */
  private scheduleReconnect(client: MqttClient): void {
    if (this.stopped || this.client !== client || this.reconnectTimer) return;
    const m = this.opts.config.mqtt;
    const delay = fullJitterDelayMs(this.reconnectAttempt++, m.reconnectPeriodMs, m.reconnectMaxMs, this.opts.random);
    this.log.debug({ delayMs: delay, attempt: this.reconnectAttempt }, 'mqtt reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopped || this.client !== client || client.connected) return;
      // The same stores: batches whose PUBACK is pending are sent again from the session store.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }

  private onClose(): void {
    this.generation++;
    if (this.connectedNow) this.log.warn({ inFlight: this.sender.inFlightCount() }, 'mqtt disconnected');
    this.connectedNow = false;
    this.sender.setOnline(false);
    this.opts.session?.onDown();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.topic.ack) {
      if (this.opts.session?.subscriptions.includes(topic)) this.guard('session message', () => this.opts.session!.onMessage(topic, payload));
      return;
    }
    const parsed = parsePayload(ackSchema, payload);
    if (!parsed.ok) {
      this.opts.counters.badAcks++;
      this.log.warn({ error: parsed.error.slice(0, 300) }, 'invalid ack ignored');
      return;
    }
    this.guard('ack', () => {
      if (this.opts.session?.onAck?.(parsed.value)) return;
      this.sender.onAck(parsed.value);
    });
  }

  /** Runs queue work from a timer or event; a failure (disk error) is logged, never thrown into the event loop. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: (err as Error).message, what }, 'publisher step failed');
    }
  }

  private publishHealth(): void {
    const client = this.client;
    if (!client || !this.connectedNow) return;
    try {
      const now = this.opts.now();
      const health = buildHealth({
        gatewayId: this.opts.config.gatewayId,
        now,
        // Uptime from the monotonic clock: startedAt is placed that far before the wall clock's now.
        startedAt: new Date(now.getTime() - (performance.now() - this.startMono)),
        queue: this.opts.queue,
        counters: this.opts.counters,
        replayBacklog: this.sender.lanes().replayBacklog,
        clock: { ...this.clock.view(), clampedReadings: this.opts.clampedReadings?.() ?? 0 },
        link: this.linkQuality(),
      });
      client.publish(this.topic.health, JSON.stringify(health), { qos: 0 });
    } catch (err) {
      this.log.error({ err }, 'health not published');
    }
  }

  private linkQuality(): LinkQuality | undefined {
    const file = this.opts.config.linkQualityFile;
    if (!file) return undefined;
    const read = readLinkQuality(file);
    if (read.ok) return read.value;
    const now = Date.now();
    if (now - this.lastLinkErrorLogMs >= ERROR_LOG_INTERVAL_MS) {
      this.lastLinkErrorLogMs = now;
      this.log.warn({ file, error: read.error.slice(0, 200) }, 'link quality file unreadable; health sent without it');
    }
    return undefined;
  }

  private statusPayload(state: 'online' | 'offline'): string {
    const status: GatewayStatus = { v: PROTOCOL_VERSION, gatewayId: this.opts.config.gatewayId, state, ts: this.opts.now().toISOString(), software: this.opts.software };
    return JSON.stringify(status);
  }

  private logError(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLogMs < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLogMs = now;
    this.log.warn({ err: err.message, code: (err as { code?: unknown }).code }, 'mqtt error');
  }
}

/** The URL without user info, for logs (never log secrets). */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
