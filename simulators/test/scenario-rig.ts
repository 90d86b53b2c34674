/**
 * The server side of the scenario tests, over real parts: SQLite in a temp folder, the real
 * `Ingest` (validation, group commit, ack, hand-over to detection) and the real alert engine,
 * all on one manual clock. Readings go in as the gateway's MQTT payloads would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PROTOCOL_VERSION, topics, type Reading } from '@kentongan/firmware-protocol';
import { createAlertEngine, type AlertChange, type KentonganAlertEngine } from '../../server/src/alerts/index.ts';
import { serverConfigSchema, type ServerConfigInput } from '../../server/src/config/schema.ts';
import { Ingest } from '../../server/src/ingest/ingest.ts';
import { openDatabase } from '../../server/src/storage/database.ts';
import { GatewayStateStore } from '../../server/src/storage/gateway-state-store.ts';
import { SqliteReadingStore } from '../../server/src/storage/sqlite-reading-store.ts';

export interface ScenarioRig {
  engine: KentonganAlertEngine;
  ingest: Ingest;
  changes: AlertChange[];
  acks: { stored: number; duplicates: number }[];
  clock: { set(ms: number): void; ms(): number };
  /** Sends readings as batches of up to 500 from `gw-1`, then flushes the group commit. */
  send(readings: readonly Reading[]): void;
  close(): Promise<void>;
}

export function scenarioRig(config: Omit<ServerConfigInput, 'dataDir'>, startMs: number): ScenarioRig {
  const dir = mkdtempSync(join(tmpdir(), 'kentongan-scenario-'));
  const parsed = serverConfigSchema.parse({ ...config, dataDir: dir, notify: { channels: [] } });
  let now = startMs;
  const clock = { set: (ms: number) => void (now = ms), ms: () => now };
  const db = openDatabase(dir);
  const logger = pino({ level: 'silent' });
  const engine = createAlertEngine({ db, config: parsed, logger, now: () => new Date(now), publishAreaLevel: () => {} });
  const changes: AlertChange[] = [];
  engine.onChange((c) => changes.push(c));
  const acks: { stored: number; duplicates: number }[] = [];
  const ingest = new Ingest({
    store: new SqliteReadingStore(db),
    gatewayState: new GatewayStateStore(db),
    engine: () => engine,
    publish: async (_topic, payload) => {
      acks.push(JSON.parse(payload) as { stored: number; duplicates: number });
    },
    logger,
    now: () => new Date(now),
    knownSensors: new Set(parsed.sensors.map((s) => s.id)),
  });
  let batch = 0;
  return {
    engine,
    ingest,
    changes,
    acks,
    clock,
    send(readings) {
      for (let i = 0; i < readings.length; i += 500) {
        const payload = { v: PROTOCOL_VERSION, gatewayId: 'gw-1', batchId: `b${++batch}`, sentAt: new Date(now).toISOString(), readings: readings.slice(i, i + 500) };
        ingest.handleMessage('gw-1', topics.readings('gw-1'), Buffer.from(JSON.stringify(payload)));
      }
      ingest.flush();
    },
    async close() {
      ingest.stop();
      await engine.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Streams readings "live": each reading arrives 30 s after it was measured; ticks every 15 min. */
export function playLive(rig: ScenarioRig, readings: readonly Reading[], tickEveryMs = 15 * 60_000): void {
  let nextTick = readings.length > 0 ? Date.parse(readings[0]!.ts) + tickEveryMs : 0;
  let i = 0;
  while (i < readings.length) {
    const ts = readings[i]!.ts;
    const group: Reading[] = [];
    while (i < readings.length && readings[i]!.ts === ts) group.push(readings[i++]!);
    const ms = Date.parse(ts);
    while (nextTick <= ms) {
      rig.clock.set(nextTick);
      rig.engine.tick();
      nextTick += tickEveryMs;
    }
    rig.clock.set(ms + 30_000);
    rig.send(group);
  }
}
