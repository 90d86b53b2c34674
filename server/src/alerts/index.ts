/**
 * The alert engine: threshold detection, alert lifecycle with audit trail, area levels and the
 * notification outbox. `createAlertEngine` is the one entry point the server wires up.
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AreaAlert } from '@kentongan/firmware-protocol';
import type { ServerConfig } from '../config/schema.ts';
import type { ChannelContext } from '../notify/channel.ts';
import { createChannel } from '../notify/channels.ts';
import { defaultConsoleWriter } from '../notify/console-channel.ts';
import type { BackoffOptions, Timers } from '../notify/dispatcher.ts';
import type { DetectorFactory } from '../detection/detector.ts';
import { AlertEngineImpl, type KentonganAlertEngine } from './engine.ts';
import { AlertConfigError } from './errors.ts';
import { buildTopology, validateAlertConfig } from './topology.ts';

export type * from './types.ts';
export type { AlertEngineCounters, KentonganAlertEngine } from './engine.ts';
export type { AlertEvent } from './store.ts';
export { AlertConfigError, AlertInputError, AlertNotFoundError, AlertStateError } from './errors.ts';
export { validateAlertConfig } from './topology.ts';

/** What the alert engine needs from the server. */
export interface AlertEngineDeps {
  /** The shared state database (better-sqlite3). The engine creates its `alert_*` and `outbox_*` tables. */
  db: Database.Database;
  config: ServerConfig;
  logger: Logger;
  /** Clock (default: `new Date()`). */
  now?: () => Date;
  /** Publishes an area's level; the caller sends it retained to `topics.alert(areaId)`. Must not block. */
  publishAreaLevel: (msg: AreaAlert) => void;
  /** For webhook channels (default: global `fetch`). */
  fetchImpl?: typeof fetch;
  /** Where the console channel writes, one line per message (default: `process.stdout.write`). */
  consoleWriter?: (text: string) => void;
  /** Timers for the dispatcher's back-off (default: global timers, unref'd). */
  timers?: Timers;
  /** Retry back-off (default: 1 s doubling up to 5 min). */
  backoff?: BackoffOptions;
  /** The rule evaluator (default: `defaultDetectorFactory` in detection/detector.ts). */
  detectorFactory?: DetectorFactory;
  /** Issue 5 channels: MQTT publish (sirens), gateways per area, the modem's STOP callback. */
  channelContext?: Pick<ChannelContext, 'publish' | 'gatewaysOfArea' | 'onStopRequest'>;
}

/**
 * Creates the engine, its tables, and loads open alerts and detection state from `db`.
 * Throws `AlertConfigError` when the config's cross-references do not hold (see
 * `validateAlertConfig`). Call `start()` to publish area levels and send notifications.
 */
export function createAlertEngine(deps: AlertEngineDeps): KentonganAlertEngine {
  const problems = validateAlertConfig(deps.config);
  if (problems.length > 0) throw new AlertConfigError(problems);
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger;
  const ctx = {
    logger: logger.child({ component: 'notify' }),
    now,
    fetchImpl: deps.fetchImpl ?? globalThis.fetch,
    consoleWriter: deps.consoleWriter ?? defaultConsoleWriter,
    ...deps.channelContext,
  };
  const channels = deps.config.notify.channels.map((c) => createChannel(c, ctx));
  const engine = new AlertEngineImpl({
    db: deps.db,
    config: deps.config,
    topology: buildTopology(deps.config),
    logger,
    now,
    publishAreaLevel: deps.publishAreaLevel,
    channels,
    ...(deps.timers ? { timers: deps.timers } : {}),
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
    ...(deps.detectorFactory ? { detectorFactory: deps.detectorFactory } : {}),
  });
  // Issue 5: channels with long-lived resources (the modem's serial port, keep-alive sockets)
  // open at start, so SMS STOP replies are heard before the first send, and close after the
  // dispatcher's last send, so a stopped server leaves no port open.
  const start = engine.start.bind(engine);
  const stop = engine.stop.bind(engine);
  engine.start = () => {
    start();
    for (const c of channels) c.start?.();
  };
  engine.stop = async () => {
    await stop();
    await Promise.all(channels.map((c) => c.close?.().catch(() => undefined)));
  };
  return engine;
}
