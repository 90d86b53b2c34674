/**
 * `startServer`: wires the server core together and returns a handle to stop it.
 *
 * Start order: database -> alert engine (created) -> broker (created, not yet listening) ->
 * ingest -> engine started (publishes area levels) -> broker listens -> HTTP listens.
 * `stop()` runs the reverse: HTTP closes (no more
 * operator actions), ingest commits and acks the batches it has queued (group commit), the
 * broker closes (no more readings; gateways keep unacked batches queued), the engine stops after its in-flight notifications settle, the database closes
 * last. Closing the inputs before the engine means no reading is stored and acked that
 * detection did not see.
 */
import { areaAlertSchema, formatZodError, topics, type AreaAlert, type Level } from '@kentongan/firmware-protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAlertEngine, type AlertEngineDeps } from './alerts/index.ts';
import type { AlertEngine } from './alerts/types.ts';
import { buildApp } from './app.ts';
import { runBacktest } from './backtest/backtest.ts';
import { CapLog } from './cap/cap-log.ts';
import { Outbox } from './notify/outbox.ts';
import { RecipientStore } from './recipients/store.ts';
import { createBroker, type EmbeddedBroker } from './broker/broker.ts';
import type { ServerConfig } from './config/schema.ts';
import { ServerError } from './errors.ts';
import { Ingest } from './ingest/ingest.ts';
import { createLogger } from './logger.ts';
import { openDatabase } from './storage/database.ts';
import { GatewayStateStore } from './storage/gateway-state-store.ts';
import { GatewayControlStore } from './gateways/control-store.ts';
import { GatewayControlService } from './gateways/gateway-control.ts';
import { SqliteReadingStore } from './storage/sqlite-reading-store.ts';

export interface StartServerDeps {
  logger?: Logger;
  /** Clock for receivedAt stamps, the engine and the API; default `new Date()`. */
  now?: () => Date;
  /** Alert engine factory; default the real `createAlertEngine`. Tests may pass a recording fake. */
  createEngine?: (deps: AlertEngineDeps) => AlertEngine;
  /** Passed through to the engine: webhook `fetch`, console writer, timers, back-off. */
  engineOptions?: Pick<AlertEngineDeps, 'fetchImpl' | 'consoleWriter' | 'timers' | 'backoff'>;
}

/** Counters of one server run (since `startServer`). */
export interface ServerStats {
  readingsStored: number;
  duplicates: number;
  readingsRejected: number;
  batchesAcked: number;
  authFailures: number;
  publishDenied: number;
  alertsRaised: number;
  maxLevel: Level;
  notificationsSent: number;
  notificationsFailed: number;
  notificationsPending: number;
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:8080` (API under `/api/v1`, docs under `/documentation`). */
  httpUrl: string;
  /** e.g. `mqtt://127.0.0.1:1883`. */
  mqttUrl: string;
  httpPort: number;
  mqttPort: number;
  engine: AlertEngine;
  stats(): ServerStats;
  /** Stops everything in reverse start order; idempotent. */
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig, deps: StartServerDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? createLogger();
  const now = deps.now ?? (() => new Date());
  const log = logger.child({ component: 'server' });
  const startedAt = now();
  const cleanups: Array<() => Promise<void> | void> = [];
  const unwind = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error({ err }, 'shutdown step failed');
      }
    }
  };

  try {
    const db = openDatabase(config.dataDir);
    cleanups.push(() => {
      db.close();
    });
    const store = new SqliteReadingStore(db);
    const gatewayState = new GatewayStateStore(db);

    // The engine is created first so that it stops after the broker closes (cleanups run in
    // reverse); it publishes area levels only from start(), when the broker exists.
    let broker: EmbeddedBroker | null = null;
    // Staff recipients and notify settings into the database before the engine's notifier reads them.
    const recipients = new RecipientStore(db);
    recipients.syncFromConfig(config, now());
    const createEngine = deps.createEngine ?? createAlertEngine;
    const engine = createEngine({
      ...deps.engineOptions,
      db,
      config,
      logger: logger.child({ component: 'alerts' }),
      now,
      publishAreaLevel: (msg) => publishAreaLevel(broker, msg, log),
      // Issue 5 channels: sirens publish output commands, the modem's STOP replies unsubscribe.
      channelContext: {
        publish: (topic, payload, options) => (broker ? broker.publish(topic, payload, options) : Promise.reject(new Error('broker not started'))),
        gatewaysOfArea: gatewaysOfAreaFrom(config),
        onStopRequest: (phone) => {
          const removed = recipients.unsubscribeByAddress(phone);
          log.info({ removed }, 'SMS STOP request: subscriptions removed');
        },
      },
    });
    cleanups.push(() => engine.stop());

    let ingest: Ingest | null = null;
    // Remote config, config status and edge alarms (server/src/gateways); its own tables.
    const gatewayControl = new GatewayControlService({
      store: new GatewayControlStore(db),
      publish: (topic, payload, options) => (broker ? broker.publish(topic, payload, options) : Promise.reject(new ServerError('MQTT_CLOSED', 'no broker yet'))),
      logger,
      now,
    });
    const mqtt: EmbeddedBroker = await createBroker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      gateways: new Map(config.gateways.map((g) => [g.id, g.passwordHash])),
      logger,
      onGatewayMessage: (gatewayId, topic, payload) => {
        if (gatewayControl.handleMessage(gatewayId, topic, payload)) return;
        ingest?.handleMessage(gatewayId, topic, payload);
      },
    });
    broker = mqtt;
    cleanups.push(() => mqtt.close());
    // The broker's retained messages live in memory: desired configs are published again.
    await gatewayControl.republishAll();

    ingest = new Ingest({
      store,
      gatewayState,
      engine: () => engine,
      publish: (topic, payload, options) => mqtt.publish(topic, payload, options),
      logger,
      now,
      knownSensors: new Set(config.sensors.map((s) => s.id)),
      sensorGateway: new Map(config.sensors.flatMap((s) => (s.gatewayId ? [[s.id, s.gatewayId] as const] : []))),
    });
    // Runs before the broker closes (cleanups run in reverse): queued batches are committed and
    // acked while acks can still go out, and the engine (stopped later) sees their readings.
    const ingestRef = ingest;
    cleanups.push(() => ingestRef.stop());
    engine.start();

    const mqttPort = await mqtt.listen();
    const app: FastifyInstance = await buildApp({
      config,
      store,
      gatewayState,
      engine,
      ingest,
      broker: mqtt,
      dbHealthy: () => {
        try {
          return db.prepare('SELECT 1 AS ok').get() !== undefined;
        } catch {
          return false;
        }
      },
      logger,
      now,
      startedAt,
      gatewayControl,
      backtest: { run: (opts) => runBacktest(db, opts) },
      notify: {
        recipients,
        outbox: new Outbox(db),
        cap: new CapLog(db),
        channels: config.notify.channels.map((c) => ({ id: c.id, kind: c.kind })),
      },
    });
    cleanups.push(() => app.close());
    await app.listen({ host: config.http.host, port: config.http.port }).catch((err: unknown) => {
      throw new ServerError('HTTP_LISTEN_FAILED', `cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`, {
        cause: err,
      });
    });
    const address = app.server.address();
    const httpPort = address !== null && typeof address === 'object' ? address.port : config.http.port;

    const running: RunningServer = {
      httpUrl: `http://${urlHost(config.http.host)}:${httpPort}`,
      mqttUrl: `mqtt://${urlHost(config.mqtt.host)}:${mqttPort}`,
      httpPort,
      mqttPort,
      engine,
      stats: () => {
        const c = ingest!.counters;
        const e = engine.stats();
        return {
          readingsStored: c.readingsStored,
          duplicates: c.duplicates,
          readingsRejected: c.readingsRejected,
          batchesAcked: c.batchesAcked,
          authFailures: mqtt.counters.authFailures,
          publishDenied: mqtt.counters.publishDenied,
          alertsRaised: e.alertsRaised,
          maxLevel: e.maxLevel,
          notificationsSent: e.notificationsSent,
          notificationsFailed: e.notificationsFailed,
          notificationsPending: e.notificationsPending,
        };
      },
      stop: (() => {
        let stopping: Promise<void> | null = null;
        return () => {
          stopping ??= unwind().then(() => log.info('server stopped'));
          return stopping;
        };
      })(),
    };
    log.info({ httpUrl: running.httpUrl, mqttUrl: running.mqttUrl, dataDir: config.dataDir }, 'server started');
    return running;
  } catch (err) {
    await unwind();
    throw err;
  }
}

function publishAreaLevel(broker: EmbeddedBroker | null, msg: AreaAlert, log: Logger): void {
  if (!broker) {
    log.warn({ areaId: msg.areaId }, 'area level before the broker exists; not published');
    return;
  }
  const checked = areaAlertSchema.safeParse(msg);
  if (!checked.success) {
    log.error({ areaId: msg.areaId, error: formatZodError(checked.error) }, 'area level failed its schema; not published');
    return;
  }
  broker
    .publish(topics.alert(checked.data.areaId), JSON.stringify(checked.data), { qos: 1, retain: true })
    .catch((err: unknown) => log.warn({ err, areaId: msg.areaId }, 'area level not published'));
}

/** Gateways that serve an area: those of the sensors at the area's sites (siren channel default). */
function gatewaysOfAreaFrom(config: ServerConfig): (areaId: string) => string[] {
  const siteArea = new Map(config.sites.map((s) => [s.id, s.areaId]));
  const byArea = new Map<string, Set<string>>();
  for (const s of config.sensors) {
    const areaId = siteArea.get(s.siteId);
    if (areaId === undefined || s.gatewayId === undefined) continue;
    let set = byArea.get(areaId);
    if (!set) byArea.set(areaId, (set = new Set()));
    set.add(s.gatewayId);
  }
  return (areaId) => [...(byArea.get(areaId) ?? [])];
}

/** A host clients can reach: a wildcard bind address is reached on loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
