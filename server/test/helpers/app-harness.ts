/**
 * An HTTP app over real parts for `app.inject()` tests: SQLite store in a temp folder, gateway
 * state, the recording engine, and plain broker/ingest views whose counters tests can set.
 */
import type Database from 'better-sqlite3';
import { readingSchema } from '@kentongan/firmware-protocol';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createBrokerCounters } from '../../src/broker/access.ts';
import { createIngestCounters } from '../../src/ingest/counters.ts';
import type { BrokerView, IngestView } from '../../src/routes/deps.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { GatewayStateStore } from '../../src/storage/gateway-state-store.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { GW_A, silentLogger, tempDir, testConfig, wl } from './fixtures.ts';
import { RecordingEngine } from './recording-engine.ts';

// Any well-formed hash: these tests never authenticate.
const HASH = 'scrypt$32768$8$1$I5oNDDq/eLgRMSr/Nt/4GQ==$HnCYIU2zy0h7tA+8ltz6hYmcuLka2oCHhPZ909dZyHc=';
export const NOW = new Date('2025-01-09T09:00:00.000Z');

export interface AppHarness {
  app: FastifyInstance;
  db: Database.Database;
  store: SqliteReadingStore;
  gatewayState: GatewayStateStore;
  engine: RecordingEngine;
  broker: BrokerView & { online: Set<string> };
  ingest: IngestView;
  /** Stores four readings of wl-1 (seq 1..4, one of them temperature). */
  seed(): void;
  close(): Promise<void>;
}

export async function createAppHarness(): Promise<AppHarness> {
  const tmp = await tempDir();
  const config = testConfig({ dataDir: tmp.dir, hashA: HASH, hashB: HASH });
  const db = openDatabase(tmp.dir);
  const store = new SqliteReadingStore(db);
  const gatewayState = new GatewayStateStore(db);
  const engine = new RecordingEngine();
  const online = new Set<string>();
  const broker = { online, counters: createBrokerCounters(), connectedGateways: () => online, connectedClients: () => online.size };
  const ingest: IngestView = { counters: createIngestCounters(), gatewayActivity: () => new Map() };
  const app = await buildApp({
    config,
    store,
    gatewayState,
    engine,
    ingest,
    broker,
    dbHealthy: () => db.open,
    logger: silentLogger,
    now: () => NOW,
    startedAt: new Date(NOW.getTime() - 90_000),
  });
  return {
    app,
    db,
    store,
    gatewayState,
    engine,
    broker,
    ingest,
    seed: () => {
      store.insertBatch(
        GW_A,
        [wl(1, 50), wl(2, 58), wl(4, 62), wl(3, 61, { quantity: 'temperature', unit: 'degC' })].map((r) => readingSchema.parse(r)),
        NOW,
      );
    },
    close: async () => {
      await app.close();
      if (db.open) db.close();
      await tmp.cleanup();
    },
  };
}

export const errorOf = (res: { json(): unknown }) => (res.json() as { error: { code: string; message: string } }).error;
