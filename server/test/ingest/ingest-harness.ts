/**
 * Ingest wired by hand from real parts — aedes on 127.0.0.1:0, SQLite in a temp folder — so a
 * test can choose the group-commit options, reach the database connection (to make it fail)
 * and read what is committed through a second connection, as another process would.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { topics } from '@kentongan/firmware-protocol';
import { createAlertEngine, type KentonganAlertEngine } from '../../src/alerts/index.ts';
import { createBroker, type EmbeddedBroker } from '../../src/broker/broker.ts';
import type { ServerConfig } from '../../src/config/schema.ts';
import type { GroupCommitOptions } from '../../src/ingest/group-commit.ts';
import { Ingest } from '../../src/ingest/ingest.ts';
import { DATABASE_FILE, openDatabase } from '../../src/storage/database.ts';
import { GatewayStateStore } from '../../src/storage/gateway-state-store.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { silentLogger, tempDir } from '../helpers/fixtures.ts';
import { RecordingEngine } from '../helpers/recording-engine.ts';

export interface IngestHarness {
  db: Database.Database;
  ingest: Ingest;
  broker: EmbeddedBroker;
  /** The recording fake, or the real engine when `realEngine` was asked for. */
  engine: RecordingEngine | KentonganAlertEngine;
  mqttUrl: string;
  /** A second, read-only connection: it sees committed data only (WAL snapshot per statement). */
  reader: Database.Database;
  /** Readings committed, counted through `reader`. */
  committedRows(where?: { sensorId: string; fromSeq: number; toSeq: number }): number;
  close(): Promise<void>;
}

export async function startIngest(opts: {
  config: ServerConfig;
  groupCommit?: GroupCommitOptions;
  realEngine?: boolean;
}): Promise<IngestHarness> {
  const tmp = await tempDir('kentongan-ingest-');
  const db = openDatabase(tmp.dir);
  let broker: EmbeddedBroker | null = null;
  const engine = opts.realEngine
    ? createAlertEngine({
        db,
        config: opts.config,
        logger: silentLogger,
        publishAreaLevel: (msg) => {
          broker?.publish(topics.alert(msg.areaId), JSON.stringify(msg), { qos: 1, retain: true }).catch(() => undefined);
        },
      })
    : new RecordingEngine(db);
  let ingest: Ingest | null = null;
  broker = await createBroker({
    host: '127.0.0.1',
    port: 0,
    gateways: new Map(opts.config.gateways.map((g) => [g.id, g.passwordHash])),
    logger: silentLogger,
    onGatewayMessage: (gatewayId, topic, payload) => ingest?.handleMessage(gatewayId, topic, payload),
  });
  const mqtt = broker;
  ingest = new Ingest({
    store: new SqliteReadingStore(db),
    gatewayState: new GatewayStateStore(db),
    engine: () => engine,
    publish: (topic, payload, options) => mqtt.publish(topic, payload, options),
    logger: silentLogger,
    now: () => new Date(),
    knownSensors: new Set(opts.config.sensors.map((s) => s.id)),
    ...(opts.groupCommit ? { groupCommit: opts.groupCommit } : {}),
  });
  engine.start();
  const port = await mqtt.listen();
  const reader = new Database(join(tmp.dir, DATABASE_FILE), { readonly: true });
  const countAll = reader.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM readings');
  const countRange = reader.prepare<[string, number, number], { n: number }>(
    'SELECT COUNT(*) AS n FROM readings WHERE sensor_id = ? AND seq BETWEEN ? AND ?',
  );
  const running = ingest;
  return {
    db,
    ingest: running,
    broker: mqtt,
    engine,
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    reader,
    committedRows: (where) =>
      where ? countRange.get(where.sensorId, where.fromSeq, where.toSeq)!.n : countAll.get()!.n,
    async close() {
      if (db.open) running.stop();
      await mqtt.close();
      await engine.stop();
      reader.close();
      if (db.open) db.close();
      await tmp.cleanup();
    },
  };
}
