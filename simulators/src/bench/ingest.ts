/**
 * Ingest benchmark: readings per second through broker -> ingest (validate, dedupe) -> SQLite
 * store -> detection -> ack, measured as a gateway sees it (publish QoS 1, wait for every
 * end-to-end ack). Baseline, same run, same machine: the raw aedes relay of the same
 * messages (publisher -> aedes -> subscriber, QoS 1) with no processing at all.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { topics, type ReadingsBatch } from '@kentongan/firmware-protocol';
import { hashPassword, parseServerConfig, startServer } from '@kentongan/server';
import { benchLine, printTable, round, type BenchResult } from './report.ts';

export interface IngestOptions {
  readings: number;
  batchSize: number;
  gateways: number;
  /** QoS 1 publishes in flight per gateway. */
  window: number;
}

const SENSORS_PER_GATEWAY = 10;
const DEFAULTS: IngestOptions = { readings: 200_000, batchSize: 250, gateways: 4, window: 8 };

function makeBatches(gatewayId: string, count: number, size: number): string[] {
  const t0 = Date.parse('2026-01-09T08:00:00.000Z');
  const out: string[] = [];
  for (let b = 0; b < count; b++) {
    const readings = [];
    for (let i = 0; i < size; i++) {
      const seq = b * size + i;
      readings.push({
        sensorId: `${gatewayId}-s${seq % SENSORS_PER_GATEWAY}`,
        epoch: 0,
        seq,
        quantity: 'water_level' as const,
        value: 40 + (seq % 17),
        unit: 'cm' as const,
        ts: new Date(t0 + seq * 100).toISOString(),
        quality: 'good' as const,
      });
    }
    const batch: ReadingsBatch = { v: 1, gatewayId, batchId: `b${b}`, sentAt: new Date().toISOString(), readings };
    out.push(JSON.stringify(batch));
  }
  return out;
}

/**
 * Publishes payloads QoS 1 keeping at most `window` unconfirmed; the caller calls `confirm()`
 * for each confirmation it sees (a relayed message, an end-to-end ack).
 */
function windowedPublisher(client: mqtt.MqttClient, topic: string, payloads: string[], window: number) {
  let next = 0;
  let confirmed = 0;
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const fill = () => {
    while (next < payloads.length && next - confirmed < window) {
      client.publish(topic, payloads[next++]!, { qos: 1 }, (err) => err && fail(err));
    }
    if (confirmed >= payloads.length) finish();
  };
  return {
    start: () => (fill(), done),
    confirm: () => {
      confirmed++;
      fill();
    },
    confirmed: () => confirmed,
  };
}

async function connect(url: string, opts: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, ...opts });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Raw relay: the same payloads through a bare aedes with one subscriber. Returns readings/s. */
async function measureRelay(o: IngestOptions, payloadsPerGateway: string[][]): Promise<{ rate: number; lost: number }> {
  const broker = await Aedes.createBroker({});
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sub = await connect(url, { clientId: 'relay-sub' });
  await sub.subscribeAsync(topics.allReadings, { qos: 1 });
  const pubs = await Promise.all(payloadsPerGateway.map((_, g) => connect(url, { clientId: `relay-pub-${g}` })));
  const publishers = new Map(
    pubs.map((p, g) => [topics.readings(`gw${g}`), windowedPublisher(p, topics.readings(`gw${g}`), payloadsPerGateway[g]!, o.window)]),
  );
  sub.on('message', (topic) => publishers.get(topic)?.confirm());
  const start = performance.now();
  await Promise.all([...publishers.values()].map((p) => p.start()));
  const seconds = (performance.now() - start) / 1000;
  const delivered = [...publishers.values()].reduce((n, p) => n + p.confirmed(), 0) * o.batchSize;
  await Promise.all([...pubs, sub].map((c) => c.endAsync()));
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
  return { rate: delivered / seconds, lost: o.readings - delivered };
}

/** Kentongan ingest: gateways publish, the server stores and acks. Returns readings/s. */
async function measureIngest(o: IngestOptions, payloadsPerGateway: string[][]) {
  const dir = await mkdtemp(join(tmpdir(), 'kentongan-bench-'));
  const password = randomBytes(12).toString('hex');
  const hash = await hashPassword(password);
  const sensorIds = payloadsPerGateway.flatMap((_, g) => Array.from({ length: SENSORS_PER_GATEWAY }, (_, i) => `gw${g}-s${i}`));
  const server = await startServer(
    parseServerConfig({
      dataDir: dir,
      http: { port: 0 },
      mqtt: { port: 0 },
      gateways: payloadsPerGateway.map((_, g) => ({ id: `gw${g}`, passwordHash: hash })),
      // Every sensor registered with a water-level rule, so detection runs on every reading
      // (the values stay below Waspada: this measures evaluation, not notification).
      areas: [{ id: 'bench', name: 'Bench' }],
      sites: [{ id: 'bench-site', name: 'Bench site', areaId: 'bench', lat: -6.93, lon: 107.77 }],
      sensors: sensorIds.map((id) => ({ id, siteId: 'bench-site', type: 'water_level' })),
      rules: sensorIds.map((id) => ({
        id: `${id}-level`,
        kind: 'threshold' as const,
        hazard: 'flood' as const,
        sensorId: id,
        quantity: 'water_level' as const,
        levels: { Waspada: { raise: 60, clear: 55 }, Siaga: { raise: 160, clear: 150 }, Awas: { raise: 210, clear: 200 } },
      })),
      notify: { channels: [] },
    }),
    { logger: pino({ level: 'warn' }) },
  );
  const clients = await Promise.all(
    payloadsPerGateway.map(async (payloads, g) => {
      const c = await connect(server.mqttUrl, { clientId: `gw${g}`, username: `gw${g}`, password });
      await c.subscribeAsync(topics.ack(`gw${g}`), { qos: 1 });
      const publisher = windowedPublisher(c, topics.readings(`gw${g}`), payloads, o.window);
      c.on('message', () => publisher.confirm());
      return { c, publisher };
    }),
  );
  const start = performance.now();
  await Promise.all(clients.map(({ publisher }) => publisher.start()));
  const seconds = (performance.now() - start) / 1000;
  const stats = server.stats();
  await Promise.all(clients.map(({ c }) => c.endAsync()));
  await server.stop();
  await rm(dir, { recursive: true, force: true });
  return { rate: stats.readingsStored / seconds, stored: stats.readingsStored, lost: o.readings - stats.readingsStored - stats.duplicates };
}

export async function runIngestBench(args: string[]): Promise<BenchResult> {
  const o = { ...DEFAULTS };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]?.replace(/^--/, '') as keyof IngestOptions;
    if (key in o) o[key] = Number(args[i + 1]);
  }
  const perGateway = Math.floor(o.readings / o.batchSize / o.gateways);
  o.readings = perGateway * o.batchSize * o.gateways;
  console.log(`ingest: ${o.readings} readings in batches of ${o.batchSize}, ${o.gateways} gateways, window ${o.window}`);
  const payloads = Array.from({ length: o.gateways }, (_, g) => makeBatches(`gw${g}`, perGateway, o.batchSize));

  console.log('  baseline: raw aedes relay …');
  const relay = await measureRelay(o, payloads);
  console.log('  kentongan: broker -> ingest -> SQLite -> detection -> ack …');
  const rssBefore = process.memoryUsage().rss;
  const ingest = await measureIngest(o, payloads);
  const peakRss = Math.max(rssBefore, process.memoryUsage().rss);

  const ratio = ingest.rate / relay.rate;
  printTable([
    ['raw aedes relay (readings/s)', round(relay.rate)],
    ['kentongan ingest (readings/s)', round(ingest.rate)],
    ['ratio ingest / relay', round(ratio, 3)],
    ['readings stored', ingest.stored],
    ['lost', ingest.lost],
    ['process RSS after (MB)', round(peakRss / 2 ** 20, 1)],
  ]);
  return {
    bench: 'ingest',
    value: round(ingest.rate),
    unit: 'readings/s',
    baseline: round(relay.rate),
    ratio: round(ratio, 3),
    lost: ingest.lost + relay.lost,
    batch_size: o.batchSize,
    readings: o.readings,
    rss_mb: round(peakRss / 2 ** 20, 1),
  };
}

export { benchLine };
