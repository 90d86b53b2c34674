/**
 * Detection latency under load (issue 4): how long from a batch reaching ingest to the alert it
 * causes being committed, while 5,000 readings/s of background readings flow through the same
 * path. Real parts: SQLite in a temp folder (WAL, synchronous = FULL), the real `Ingest` (group
 * commit, ack, hand-over), the real alert engine; only the MQTT socket is left out.
 *
 * A trigger sensor alternates above and below a one-level rule (confirm 1, clear 1), so each of
 * its readings opens or resolves an alert: one persisted alert change per trigger reading. The
 * latency of one sample = engine `onChange` (called after the engine's commit) minus the moment
 * the trigger batch was handed to ingest; it includes the group-commit wait and the store commit,
 * so it is an upper bound of "stored reading -> persisted alert". Target p99 <= 50 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PROTOCOL_VERSION, topics } from '@kentongan/firmware-protocol';
import { createAlertEngine } from '../../../server/src/alerts/index.ts';
import { serverConfigSchema } from '../../../server/src/config/schema.ts';
import { Ingest } from '../../../server/src/ingest/ingest.ts';
import { openDatabase } from '../../../server/src/storage/database.ts';
import { GatewayStateStore } from '../../../server/src/storage/gateway-state-store.ts';
import { SqliteReadingStore } from '../../../server/src/storage/sqlite-reading-store.ts';

export interface DetectLatencyOptions {
  /** Background readings per second (default 5,000). */
  backgroundRate?: number;
  /** Background sensors, each with one threshold rule that stays Normal (default 100). */
  sensors?: number;
  /** Length of the measured run, ms (default 10,000). */
  durationMs?: number;
  /** Trigger readings per second (default 20). */
  triggerRate?: number;
}

export interface DetectLatencyResult {
  samples: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Background readings actually handed to ingest per second. */
  background_rate: number;
  readings_stored: number;
  /** Trigger readings that produced no alert change (must be 0). */
  lost: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export async function measureDetectLatency(opts: DetectLatencyOptions = {}): Promise<DetectLatencyResult> {
  const rate = opts.backgroundRate ?? 5000;
  const nSensors = opts.sensors ?? 100;
  const durationMs = opts.durationMs ?? 10_000;
  const triggerEveryMs = 1000 / (opts.triggerRate ?? 20);
  const dir = mkdtempSync(join(tmpdir(), 'kentongan-detect-latency-'));
  const ids = Array.from({ length: nSensors }, (_, i) => `bg-${i}`);
  const config = serverConfigSchema.parse({
    dataDir: dir,
    areas: [{ id: 'a1', name: 'Area' }],
    sites: [{ id: 's1', name: 'Site', areaId: 'a1', lat: -6.9, lon: 107.8 }],
    sensors: [...ids, 'trigger'].map((id) => ({ id, siteId: 's1', type: 'water_level' })),
    rules: [
      ...ids.map((id) => ({ id: `r-${id}`, kind: 'threshold', hazard: 'flood', sensorId: id, quantity: 'water_level', levels: { Waspada: { raise: 1000, clear: 900 }, Siaga: { raise: 2000, clear: 1900 }, Awas: { raise: 3000, clear: 2900 } } })),
      { id: 'r-trigger', kind: 'threshold', hazard: 'flood', sensorId: 'trigger', quantity: 'water_level', levels: { Awas: { raise: 210, clear: 200 } }, confirmReadings: 1, clearReadings: 1 },
    ],
    notify: { channels: [] },
  });
  const db = openDatabase(dir);
  const logger = pino({ level: 'silent' });
  const engine = createAlertEngine({ db, config, logger, publishAreaLevel: () => {} });
  const ingest = new Ingest({
    store: new SqliteReadingStore(db),
    gatewayState: new GatewayStateStore(db),
    engine: () => engine,
    publish: async () => {},
    logger,
    now: () => new Date(),
    knownSensors: new Set([...ids, 'trigger']),
  });
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  engine.onChange((c) => {
    const seq = Number((c.alert.evidence as { ts: string }).ts === undefined ? NaN : triggerSeqOf.get(c.alert.evidence.ts));
    const t0 = sentAt.get(seq);
    if (t0 !== undefined) {
      latencies.push(performance.now() - t0);
      sentAt.delete(seq);
    }
  });
  const triggerSeqOf = new Map<string, number>();
  const seqs = new Map<string, number>();
  const start = Date.now();
  const nextTs = (sensor: string, periodMs: number) => {
    const s = (seqs.get(sensor) ?? 0) + 1;
    seqs.set(sensor, s);
    return { seq: s, ts: new Date(start + s * periodMs).toISOString() };
  };
  let batchNo = 0;
  const send = (readings: object[]) =>
    ingest.handleMessage('gw-bench', topics.readings('gw-bench'), Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, gatewayId: 'gw-bench', batchId: `b${++batchNo}`, sentAt: new Date().toISOString(), readings })));

  let background = 0;
  let triggers = 0;
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const perSensorPeriod = (nSensors * 1000) / rate;
  let cursor = 0;
  let nextTrigger = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    const tickStart = performance.now();
    const batch: object[] = [];
    // Catch up with the target rate when a tick ran late (bounded by one batch of 1,000).
    const due = Math.min(1000, Math.max(perTick, Math.round((rate * (tickStart - t0)) / 1000) - background));
    for (let k = 0; k < due; k++) {
      const id = ids[cursor++ % nSensors]!;
      const { seq, ts } = nextTs(id, perSensorPeriod);
      batch.push({ sensorId: id, epoch: 1, seq, quantity: 'water_level', value: 50 + (seq % 7), unit: 'cm', ts, quality: 'good' });
    }
    send(batch);
    background += batch.length;
    if (tickStart - t0 >= nextTrigger) {
      nextTrigger += triggerEveryMs;
      const { seq, ts } = nextTs('trigger', triggerEveryMs);
      triggerSeqOf.set(ts, seq);
      sentAt.set(seq, performance.now());
      send([{ sensorId: 'trigger', epoch: 1, seq, quantity: 'water_level', value: seq % 2 === 1 ? 250 : 100, unit: 'cm', ts, quality: 'good' }]);
      triggers++;
    }
    const wait = tickMs - (performance.now() - tickStart);
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  const elapsed = performance.now() - t0;
  ingest.stop();
  await engine.stop();
  const stored = new SqliteReadingStore(db).count();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  const sorted = [...latencies].sort((a, b) => a - b);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return {
    samples: sorted.length,
    p50_ms: r2(percentile(sorted, 50)),
    p99_ms: r2(percentile(sorted, 99)),
    max_ms: r2(sorted.at(-1) ?? NaN),
    background_rate: Math.round((background * 1000) / elapsed),
    readings_stored: stored,
    lost: triggers - sorted.length,
  };
}

/** Figures for the `detect` bench's last line (merged by `npm run bench -- detect`). */
export function latencyFigures(r: DetectLatencyResult): Record<string, number> {
  return { p50_ms: r.p50_ms, p99_ms: r.p99_ms, max_ms: r.max_ms, latency_samples: r.samples, background_rate: r.background_rate, latency_lost: r.lost };
}
