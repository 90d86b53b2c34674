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
import { GatewayError } from './errors.ts';
import { MqttPublisher } from './publish/mqtt-publisher.ts';
import { openGatewayDatabase, readQueueId, type GatewayDatabase } from './queue/database.ts';
import { DiskQueue } from './queue/disk-queue.ts';
import { SensorClock } from './queue/sensor-clock.ts';
import { defaultCreateDetector } from './local-warning/detector.ts';
import type { DetectorFactory } from './local-warning/local-warning.ts';
import { ObservedIngestStore } from './local-warning/observed-store.ts';
import { GatewayControl, type ControlStats, type GatewayControlOptions } from './remote-config/gateway-control.ts';
import { BusSet } from './remote-config/bus-set.ts';
import { PortSet } from './remote-config/port-set.ts';
import { SequenceTracker } from './queue/sequence-tracker.ts';
import { TipCounters } from './queue/tip-counters.ts';
import { GatewayCounters, type GatewayStats } from './stats.ts';
import type { ModbusBusStats } from './drivers/modbus/modbus-bus.ts';
import { ModbusIngest } from './drivers/modbus/modbus-ingest.ts';

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
  /** The local rules' evaluator; default the shared `createDetector` of @kentongan/firmware-protocol. */
  createDetector?: DetectorFactory;
  /** Local warning tick and GPIO pattern timings (tests). */
  control?: Pick<GatewayControlOptions, 'gpio' | 'tickMs'>;
}

export interface RunningGateway {
  stats(): GatewayStats;
  /** Closes the ports, publishes `offline` (retained), ends MQTT gracefully, closes the database. */
  stop(): Promise<void>;
  /** Resolves when the queue is empty (all acked) or rejects on timeout. */
  drained(timeoutMs: number): Promise<void>;
  /** Per Modbus bus: port state, discarded bytes, per-device counters (README "Modbus RTU"). */
  modbusStats(): ModbusBusStats[];
  /** Remote config version and refusals, local warning state, outputs (README "Remote configuration"). */
  controlStats(): ControlStats;
}

export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const root = deps.logger ?? pino({ level: 'info' });
  const log = root.child({ gatewayId: config.gatewayId });
  const now = deps.now ?? (() => new Date());
  const binding = deps.binding ?? (SerialPort.binding as BindingInterface);
  const startedAt = now();

  // The control plane first: a remote config persisted by an earlier run decides ports and sensors.
  const control = new GatewayControl({ fileConfig: config, logger: log, now, createDetector: deps.createDetector ?? defaultCreateDetector, ...deps.control });
  let db: GatewayDatabase | undefined;
  try {
    db = openGatewayDatabase(join(config.dataDir, DATABASE_FILE));
    return await assemble(control.config(), db, { log, now, binding, startedAt, control });
  } catch (err) {
    db?.close();
    await control.stop();
    throw err;
  }
}

async function assemble(
  config: GatewayConfig,
  db: GatewayDatabase,
  { log, now, binding, startedAt, control }: { log: Logger; now: () => Date; binding: BindingInterface; startedAt: Date; control: GatewayControl },
): Promise<RunningGateway> {
  const queue = new DiskQueue(db, { maxReadings: config.queue.maxReadings, nowMs: () => now().getTime(), logger: log.child({ component: 'queue' }) });
  const sensorClock = new SensorClock(db, log.child({ component: 'clock' }));
  const store = new ObservedIngestStore(db, queue, new SequenceTracker(db, now), new TipCounters(db), sensorClock);
  // Committed readings feed the local rules (warning when cut off).
  store.observe((readings) => control.localWarning.onReadings(readings));
  const latestIssued = sensorClock.latestIssuedMs();
  if (latestIssued !== null && now().getTime() < latestIssued) {
    // The clock is behind readings this gateway already stamped: it went back (no RTC, NTP step).
    log.warn({ gatewayTime: now().toISOString(), latestIssued: new Date(latestIssued).toISOString() }, 'gateway clock is behind the last reading time: timestamps will be clamped until it catches up');
  }
  const modbusBuses = config.modbus?.buses ?? [];
  const counters = new GatewayCounters([...config.sensors.map((s) => s.id), ...modbusBuses.flatMap((b) => b.devices.map((d) => d.sensorId))]);
  const queueId = readQueueId(db);
  log.info({ queueDepth: queue.depth(), queueId, sensors: config.sensors.length, ports: config.ports.length }, 'gateway starting');

  const publisher = new MqttPublisher({
    config,
    queue,
    queueId,
    counters,
    logger: log,
    now,
    startedAt,
    software: GATEWAY_SOFTWARE,
    clampedReadings: () => sensorClock.clamped,
    session: control.session,
  });
  publisher.start();

  // Line-sensor ports, re-opened only where a remote config changes them (remote-config/port-set.ts).
  const portSet = new PortSet({ binding, store, counters, logger: log, now, onCommitted: () => publisher.notify() });
  // First open attempt of every port before returning, so a caller sees ports open (or retrying).
  await portSet.apply(config);
  // Modbus buses next to the line-sensor ports: their readings take the same IngestStore path.
  // Re-opened only where a remote config changes them (remote-config/bus-set.ts).
  const modbusIngest = new ModbusIngest({ store, counters, logger: log, onCommitted: () => publisher.notify() });
  const busSet = new BusSet({ binding, ingest: modbusIngest, counters, logger: log, now });
  await busSet.apply(config);
  let stopping: Promise<void> | undefined;
  control.remote.setApplier(async (next) => {
    // Persisted already; a stopping gateway runs it at its next start instead of re-opening ports now.
    if (stopping) return;
    const ports = await portSet.apply(next);
    const buses = await busSet.apply(next);
    await control.applyLocal(next);
    log.info({ ports, buses }, 'config applied: ports and buses re-opened only where changed');
  });

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
    droppedByClass: queue.droppedCounts(),
    replay: (({ replayBacklog, inFlightLive, inFlightReplay }) => ({ backlog: replayBacklog, inFlightLive, inFlightReplay }))(publisher.sender.lanes()),
    reconnects: counters.reconnects,
    clock: { ...publisher.clock.view(), clampedReadings: sensorClock.clamped },
    connected: publisher.connected,
    ports: portSet.states(),
  });

  return {
    stats,
    modbusStats: () => busSet.stats(),
    controlStats: () => control.stats(),
    stop() {
      stopping ??= (async () => {
        await Promise.all([portSet.stop(), busSet.stop()]);
        await publisher.stop();
        await control.stop();
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
