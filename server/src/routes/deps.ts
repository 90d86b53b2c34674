/** What the HTTP routes read from the rest of the server. Passed to `buildApp`. */
import type { Logger } from 'pino';
import type { AlertEngine } from '../alerts/types.ts';
import type { BrokerCounters } from '../broker/access.ts';
import type { ServerConfig } from '../config/schema.ts';
import type { IngestCounters } from '../ingest/counters.ts';
import type { GatewayActivity } from '../ingest/ingest.ts';
import type { GatewayStateStore } from '../storage/gateway-state-store.ts';
import type { ReadingStore } from '../storage/reading-store.ts';

/** The broker as the API sees it: counters and who is connected. */
export interface BrokerView {
  readonly counters: BrokerCounters;
  connectedGateways(): ReadonlySet<string>;
  connectedClients(): number;
}

/** The ingest as the API sees it. */
export interface IngestView {
  readonly counters: IngestCounters;
  gatewayActivity(): ReadonlyMap<string, GatewayActivity>;
}

export interface AppDeps {
  config: ServerConfig;
  store: ReadingStore;
  gatewayState: GatewayStateStore;
  engine: AlertEngine;
  ingest: IngestView;
  broker: BrokerView;
  /** A cheap liveness check of the database (e.g. `SELECT 1`). */
  dbHealthy: () => boolean;
  logger: Logger;
  now: () => Date;
  startedAt: Date;
}

/** Options every route plugin is registered with. */
export interface RouteOptions {
  deps: AppDeps;
}
