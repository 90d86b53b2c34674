/**
 * Assembles a running gateway: SQLite queue and state -> MQTT publisher -> one serial line
 * source and driver per port. Stops in reverse order. The composition root for tests, the
 * demo and the CLI alike; it reads no files and no environment (config comes in parsed).
 */
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { BindingInterface } from './transport/serial-types.ts';
import pino, { type Logger } from 'pino';
import type { GatewayConfig } from './config/schema.ts';
import { LineSensorDriver } from './drivers/line-sensor.ts';
import { GatewayError } from './errors.ts';
import { MqttPublisher } from './publish/mqtt-publisher.ts';
import { openGatewayDatabase, readQueueId, type GatewayDatabase } from './queue/database.ts';
import { DiskQueue } from './queue/disk-queue.ts';
import { IngestStore } from './queue/ingest-store.ts';
import { SequenceTracker } from './queue/sequence-tracker.ts';
import { TipCounters } from './queue/tip-counters.ts';
import { GatewayCounters, type GatewayStats } from './stats.ts';
import { SerialLineSource } from './transport/serial-line-source.ts';

export const GATEWAY_SOFTWARE = 'kentongan-gateway/0.1.0';
/** File name of the gateway database inside `dataDir`. */
export const DATABASE_FILE = 'gateway.sqlite';

export interface GatewayDeps {
  /** Root logger; the gateway makes child loggers with `component` and `gatewayId`. Default: pino at info. */
  logger?: Logger;
  /** Serial binding; default the platform's (serialport's autodetect). Tests pass MockBinding. */
  binding?: BindingInterface;
  /** Wall clock for reading timestamps and status messages. */
  now?: () => Date;
}

export interface RunningGateway {
  stats(): GatewayStats;
  /** Closes the ports, publishes `offline` (retained), ends MQTT gracefully, closes the database. */
  stop(): Promise<void>;
  /** Resolves when the queue is empty (all acked) or rejects on timeout. */
  drained(timeoutMs: number): Promise<void>;
}

export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const root = deps.logger ?? pino({ level: 'info' });
  const log = root.child({ gatewayId: config.gatewayId });
  const now = deps.now ?? (() => new Date());
  const binding = deps.binding ?? (SerialPort.binding as BindingInterface);
  const startedAt = now();

  const db = openGatewayDatabase(join(config.dataDir, DATABASE_FILE));
  try {
    return await assemble(config, db, { log, now, binding, startedAt });
  } catch (err) {
    db.close();
    throw err;
  }
}

async function assemble(
  config: GatewayConfig,
  db: GatewayDatabase,
  { log, now, binding, startedAt }: { log: Logger; now: () => Date; binding: BindingInterface; startedAt: Date },
): Promise<RunningGateway> {
  const queue = new DiskQueue(db, { maxReadings: config.queue.maxReadings, nowMs: () => now().getTime(), logger: log.child({ component: 'queue' }) });
  const store = new IngestStore(db, queue, new SequenceTracker(db, now), new TipCounters(db));
  const counters = new GatewayCounters(config.sensors.map((s) => s.id));
  const queueId = readQueueId(db);
  log.info({ queueDepth: queue.depth(), queueId, sensors: config.sensors.length, ports: config.ports.length }, 'gateway starting');

  const publisher = new MqttPublisher({ config, queue, queueId, counters, logger: log, now, startedAt, software: GATEWAY_SOFTWARE });
  publisher.start();

  const sources = config.ports.map((port) => {
    const driver = new LineSensorDriver({
      portPath: port.path,
      sensors: config.sensors.filter((s) => s.port === port.path),
      store,
      counters,
      logger: log,
      now,
      onCommitted: () => publisher.notify(),
    });
    return new SerialLineSource({
      port,
      binding,
      logger: log,
      reconnect: config.serialReconnect,
      onLine: (line) => driver.handleLine(line),
      onTooLong: () => driver.tooLong(),
    });
  });
  // First open attempt of every port before returning, so a caller sees ports open (or retrying).
  await Promise.all(sources.map((s) => s.start()));

  let stopping: Promise<void> | undefined;
  const stats = (): GatewayStats => ({
    readingsAccepted: counters.readingsAccepted,
    published: counters.published,
    acked: counters.acked,
    queueDepth: queue.depth(),
    oldestQueuedAgeS: stopping ? null : queue.oldestAgeS(),
    rejectedFrames: { ...counters.rejectedFrames },
    noiseBytes: counters.noiseBytes,
    ignoredChannels: { ...counters.ignoredChannels },
    rejectedByServer: counters.rejectedByServer,
    dropped: queue.dropped,
    gaps: counters.gapsBySensor(),
    sensorErrors: counters.sensorErrors,
    sensorBoots: counters.sensorBoots,
    badAcks: counters.badAcks,
    staleAcks: counters.staleAcks,
    invalidReadings: counters.invalidReadings,
    invalidBatches: counters.invalidBatches,
    ackSubscribeRefused: counters.ackSubscribeRefused,
    resentBatches: counters.resentBatches,
    connected: publisher.connected,
    ports: Object.fromEntries(config.ports.map((p, i) => [p.path, sources[i]!.state])),
  });

  return {
    stats,
    stop() {
      stopping ??= (async () => {
        await Promise.all(sources.map((s) => s.stop()));
        await publisher.stop();
        db.close();
        log.info({ queueDepth: queue.depth() }, 'gateway stopped');
      })();
      return stopping;
    },
    async drained(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (queue.depth() > 0) {
        if (stopping) throw new GatewayError('stopped', 'gateway stopped before the queue drained');
        if (Date.now() >= deadline) {
          throw new GatewayError('drain_timeout', `queue still holds ${queue.depth()} readings after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
