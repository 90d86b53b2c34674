/**
 * Gateway replay benchmark: a gateway queue holding 360,000 readings (100 sensors × 1 hour at
 * 1 Hz, the backlog of an hour-long outage) drains to a real server (embedded aedes, ingest with
 * zod validation, idempotent SQLite store, detection with one rule per sensor, end-to-end acks):
 * the same server as the ingest bench. The gateway is the real CLI (`gateway/src/main.ts`) run as
 * a child process, so its peak RSS is its own (VmHWM from /proc/<pid>/status, Linux).
 *
 * Figure: readings/s from the first stored reading to the last. Baseline, same run, same machine:
 * the same readings published to a fresh server of the same kind by an ideal in-process client
 * (payloads prepared in memory, no disk queue, same batch size and window): the server's own
 * ceiling, so the ratio shows what the gateway's replay costs on top of it.
 *
 * A third figure, `gateway_only_readings_s`: the same gateway process replaying to a bare aedes
 * broker whose only client acks every batch at once without storing it (the count comes from the
 * batch id's row range, no parsing): what the gateway side alone can do, to tell which side limits.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import pino from 'pino';
import { topics, type Reading, type ReadingsBatch } from '@kentongan/firmware-protocol';
// The queue's own modules (not in the package's public API), to fill it as an outage leaves it.
import { openGatewayDatabase } from '../../../gateway/src/queue/database.ts';
import { DiskQueue } from '../../../gateway/src/queue/disk-queue.ts';
import { hashPassword, parseServerConfig, startServer, type RunningServer } from '@kentongan/server';
import { printTable, round, type BenchResult } from './report.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GATEWAY_ID = 'gw-replay';

export interface ReplayOptions {
  sensors: number;
  seconds: number;
  batch: number;
  window: number;
  /** Gateway replay pacing, batches/s. */
  rate: number;
}

/**
 * V8 flags of the gateway process, as the service runs it (gateway/README.md, "Memory"): a small
 * young generation and an old-generation limit make the garbage collector work earlier instead of
 * letting the heap grow while it can. `--node-flags ''` measures Node's defaults.
 */
const DEFAULT_NODE_FLAGS = '--max-semi-space-size=2 --max-old-space-size=64';
const DEFAULTS: ReplayOptions = { sensors: 100, seconds: 3600, batch: 1000, window: 8, rate: 200 };

const sensorId = (i: number) => `rp-s${String(i).padStart(3, '0')}`;

/** The backlog, oldest first: every sensor once per second, as a gateway queues it. */
function* backlog(o: ReplayOptions): Generator<Reading> {
  const t0 = Date.parse('2026-01-09T08:00:00.000Z');
  for (let t = 0; t < o.seconds; t++) {
    const ts = new Date(t0 + t * 1000).toISOString();
    for (let s = 0; s < o.sensors; s++) {
      yield { sensorId: sensorId(s), epoch: 1_767_945_600, seq: t, quantity: 'water_level', value: 40 + ((t + s) % 17), unit: 'cm', ts, quality: 'good' };
    }
  }
}

async function startBenchServer(dir: string, o: ReplayOptions, hash: string): Promise<RunningServer> {
  const ids = Array.from({ length: o.sensors }, (_, i) => sensorId(i));
  return startServer(
    parseServerConfig({
      dataDir: dir,
      http: { port: 0 },
      mqtt: { port: 0 },
      gateways: [{ id: GATEWAY_ID, passwordHash: hash }],
      areas: [{ id: 'bench', name: 'Bench' }],
      sites: [{ id: 'bench-site', name: 'Bench site', areaId: 'bench', lat: -6.93, lon: 107.77 }],
      sensors: ids.map((id) => ({ id, siteId: 'bench-site', type: 'water_level' })),
      rules: ids.map((id) => ({
        id: `${id}-level`, kind: 'threshold' as const, hazard: 'flood' as const, sensorId: id, quantity: 'water_level' as const,
        levels: { Waspada: { raise: 60, clear: 55 }, Siaga: { raise: 160, clear: 150 }, Awas: { raise: 210, clear: 200 } },
      })),
      notify: { channels: [] },
    }),
    { logger: pino({ level: 'warn' }) },
  );
}

/** Polls the server until `total` readings are stored; returns the seconds from the first stored one. */
async function timeDrain(done: () => number, total: number, timeoutMs: number, abort?: () => string | null): Promise<{ seconds: number; stored: number }> {
  const deadline = Date.now() + timeoutMs;
  let first: number | null = null;
  let firstCount = 0;
  for (;;) {
    const stored = done();
    const t = performance.now();
    if (first === null && stored > 0) [first, firstCount] = [t, stored];
    if (stored >= total) {
      // Readings stored before the first poll saw them are counted at the first poll's rate.
      const seconds = ((t - first!) / 1000) * (total / Math.max(1, total - firstCount));
      return { seconds, stored };
    }
    const why = abort?.();
    if (why) throw new Error(why);
    if (Date.now() > deadline) return { seconds: Number.NaN, stored };
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Peak resident set of a process (VmHWM, kB → MB); null where /proc is not there. */
function peakRssMb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Where the gateway replays to: the real server, or a bare broker with an instant acker. */
interface ReplayTarget {
  mqttUrl: string;
  /** Readings stored (server) or acknowledged (acker) so far. */
  done(): number;
  duplicates(): number;
  stop(): Promise<void>;
}

async function serverTarget(dir: string, o: ReplayOptions, hash: string): Promise<ReplayTarget> {
  const server = await startBenchServer(dir, o, hash);
  return { mqttUrl: server.mqttUrl, done: () => server.stats().readingsStored, duplicates: () => server.stats().duplicates, stop: () => server.stop() };
}

async function ackerTarget(): Promise<ReplayTarget> {
  const broker = await Aedes.createBroker({});
  const tcp = createServer(broker.handle);
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const mqttUrl = `mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  const acker = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, clientId: 'acker', reconnectPeriod: 0 });
  const seen = new Set<string>();
  let acked = 0;
  let dups = 0;
  acker.on('message', (_topic, payload) => {
    // The batch id is the first field the gateway writes; its row range gives the count.
    const m = /"batchId":"([0-9a-f]{8}):(\d+)-(\d+)"/.exec(payload.subarray(0, 200).toString());
    if (!m) return;
    const n = Number(m[3]) - Number(m[2]) + 1;
    if (seen.has(m[1]! + m[2]!)) dups += n;
    else (seen.add(m[1]! + m[2]!), (acked += n));
    acker.publish(topics.ack(GATEWAY_ID), JSON.stringify({ v: 1, batchId: `${m[1]}:${m[2]}-${m[3]}`, stored: n, duplicates: 0, rejected: [] }), { qos: 1 });
  });
  await acker.subscribeAsync(topics.readings(GATEWAY_ID), { qos: 1 });
  return {
    mqttUrl,
    done: () => acked,
    duplicates: () => dups,
    stop: async () => {
      await acker.endAsync();
      await new Promise<void>((r) => broker.close(() => r()));
      tcp.close();
    },
  };
}

async function measureGateway(o: ReplayOptions, total: number, password: string, nodeFlags: string[], makeTarget: (dir: string) => Promise<ReplayTarget>) {
  const dir = await mkdtemp(join(tmpdir(), 'kentongan-replay-'));
  try {
    // The gateway's queue, filled as an outage would leave it (rows in the real schema).
    const db = openGatewayDatabase(join(dir, 'gateway', 'gateway.sqlite'));
    const queue = new DiskQueue(db, { maxReadings: 10_000_000 });
    let chunk: Reading[] = [];
    for (const r of backlog(o)) {
      chunk.push(r);
      if (chunk.length === 10_000) (queue.append(chunk), (chunk = []));
    }
    queue.append(chunk);
    const queued = queue.depth();
    db.close();

    const server = await makeTarget(join(dir, 'server'));
    const configFile = join(dir, 'gateway.json');
    await writeFile(
      configFile,
      JSON.stringify({
        gatewayId: GATEWAY_ID,
        dataDir: join(dir, 'gateway'),
        mqtt: { url: server.mqttUrl, batchMaxReadings: o.batch, maxInFlightBatches: o.window },
        replay: { maxBatchesPerS: o.rate },
        healthIntervalS: 60,
      }),
    );
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'gateway/src/main.ts', 'run', '--config', configFile, '--log-level', 'warn'], {
      cwd: ROOT,
      env: { ...process.env, KENTONGAN_MQTT_PASSWORD: password },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    let exited: string | null = null;
    child.once('exit', (code, signal) => (exited = `gateway exited early (${code ?? signal}): ${stderr.slice(0, 500)}`));
    let peak = 0;
    const rssTimer = setInterval(() => (peak = Math.max(peak, peakRssMb(child.pid!) ?? 0)), 200);
    try {
      const drain = await timeDrain(server.done, total, 600_000, () => exited);
      peak = Math.max(peak, peakRssMb(child.pid!) ?? 0);
      // Let the last acks reach the gateway, then stop it cleanly and check its queue is empty.
      await new Promise((r) => setTimeout(r, 500));
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
      const after = openGatewayDatabase(join(dir, 'gateway', 'gateway.sqlite'));
      const left = new DiskQueue(after, { maxReadings: 10_000_000 }).depth();
      after.close();
      return { queued, ...drain, left, duplicates: server.duplicates(), peakRssMb: peak };
    } finally {
      clearInterval(rssTimer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await server.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The baseline: an ideal in-process client publishes the same batches (window `o.window`). */
async function measureDirect(o: ReplayOptions, total: number, password: string, hash: string) {
  const dir = await mkdtemp(join(tmpdir(), 'kentongan-replay-base-'));
  try {
    const server = await startBenchServer(dir, o, hash);
    const payloads: string[] = [];
    let readings: Reading[] = [];
    const flush = () => {
      const b: ReadingsBatch = { v: 1, gatewayId: GATEWAY_ID, batchId: `b${payloads.length}`, sentAt: new Date().toISOString(), readings };
      payloads.push(JSON.stringify(b));
      readings = [];
    };
    for (const r of backlog(o)) if (readings.push(r) === o.batch) flush();
    if (readings.length) flush();
    const client = await mqtt.connectAsync(server.mqttUrl, { protocolVersion: 4, clientId: GATEWAY_ID, username: GATEWAY_ID, password, reconnectPeriod: 0 });
    await client.subscribeAsync(topics.ack(GATEWAY_ID), { qos: 1 });
    let next = 0;
    const send = () => void client.publish(topics.readings(GATEWAY_ID), payloads[next++]!, { qos: 1 });
    client.on('message', () => next < payloads.length && send());
    for (let i = 0; i < o.window && next < payloads.length; i++) send();
    const drain = await timeDrain(() => server.stats().readingsStored, total, 600_000);
    await client.endAsync();
    await server.stop();
    return drain;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runGatewayReplayBench(args: string[]): Promise<BenchResult> {
  const o = { ...DEFAULTS };
  let flags = DEFAULT_NODE_FLAGS;
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]?.replace(/^--/, '');
    if (key === 'node-flags') flags = args[i + 1] ?? '';
    else if (key && key in o) o[key as keyof ReplayOptions] = Number(args[i + 1]);
  }
  const nodeFlags = flags.split(/\s+/).filter(Boolean);
  const total = o.sensors * o.seconds;
  const password = randomBytes(12).toString('hex');
  const hash = await hashPassword(password);
  console.log(`gateway-replay: ${total} queued readings (${o.sensors} sensors × ${o.seconds} s), batches of ${o.batch}, window ${o.window}, pace ≤ ${o.rate} batches/s`);
  console.log(`  gateway node flags: ${nodeFlags.join(' ') || '(node defaults)'}`);
  console.log('  baseline: ideal in-process client -> server …');
  const direct = await measureDirect(o, total, password, hash);
  console.log('  gateway child process replaying its disk queue -> server …');
  const gw = await measureGateway(o, total, password, nodeFlags, (dir) => serverTarget(dir, o, hash));
  console.log('  gateway child process replaying to a bare broker with an instant acker (gateway side alone) …');
  const alone = await measureGateway(o, total, password, nodeFlags, () => ackerTarget());
  const aloneRate = total / alone.seconds;
  const rate = total / gw.seconds;
  const base = total / direct.seconds;
  const lost = total - gw.stored;
  printTable([
    ['readings queued in the gateway', gw.queued],
    ['baseline: ideal client -> server (readings/s)', round(base)],
    ['gateway replay -> server (readings/s)', round(rate)],
    ['ratio replay / baseline', round(rate / base, 3)],
    ['gateway alone, instant acker (readings/s)', round(aloneRate)],
    ['gateway alone: peak RSS (MB)', round(alone.peakRssMb, 1)],
    ['readings stored', gw.stored],
    ['duplicates (resends)', gw.duplicates],
    ['left in the gateway queue', gw.left],
    ['lost', lost],
    ['gateway peak RSS (MB, VmHWM)', round(gw.peakRssMb, 1)],
  ]);
  return {
    bench: 'gateway-replay',
    value: round(rate),
    unit: 'readings/s',
    baseline: round(base),
    ratio: round(rate / base, 3),
    lost: lost + gw.left + (total - alone.stored) + alone.left,
    readings: total,
    batch_size: o.batch,
    window: o.window,
    peak_rss_mb: round(gw.peakRssMb, 1),
    gateway_only_readings_s: round(aloneRate),
    gateway_only_peak_rss_mb: round(alone.peakRssMb, 1),
    node_flags: nodeFlags.join(' '),
    duplicates: gw.duplicates,
  };
}
