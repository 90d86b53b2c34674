/**
 * Live readings during a replay, with real processes: the gateway CLI starts with a backlog of
 * 60,000 readings in its disk queue (an outage's worth) while a water-level sensor keeps reporting
 * every 100 ms through a socat pseudo-terminal. The backlog replays oldest first; the live readings
 * must reach the server promptly anyway (one in-flight place is kept for them, README "Replay and
 * live readings"), not after the backlog. Latency = the server's receive time (`received_ms`) minus
 * the moment the test wrote the frame; both clocks are this machine's.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeLine, type Reading } from '@kentongan/firmware-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The queue's own modules, to leave a backlog in the file as an outage would.
import { openGatewayDatabase } from '../../gateway/src/queue/database.ts';
import { DiskQueue } from '../../gateway/src/queue/disk-queue.ts';
import { ChaosRig, sleep } from './chaos-helpers.ts';

const BACKLOG = 60_000;

describe('chaos: live readings keep flowing while a large backlog replays', () => {
  let rig: ChaosRig;
  const emittedAt = new Map<number, number>(); // raw seq of a water-level RDG -> wall ms written
  let latencies: number[] = [];
  let backlogLastReceived = 0;
  let liveFirstReceived = 0;

  beforeAll(async () => {
    rig = await ChaosRig.create();
    const db = openGatewayDatabase(join(rig.dir, 'gateway', 'gateway.sqlite'));
    const queue = new DiskQueue(db, { maxReadings: 1_000_000 });
    const t0 = Date.now() - 3_600_000;
    for (let c = 0; c < BACKLOG / 10_000; c++) {
      const chunk: Reading[] = [];
      for (let i = 0; i < 10_000; i++) {
        const n = c * 10_000 + i;
        chunk.push({ sensorId: `bk-s${n % 100}`, epoch: 1, seq: Math.floor(n / 100), quantity: 'water_level', value: 50, unit: 'cm', ts: new Date(t0 + n).toISOString(), quality: 'good' });
      }
      queue.append(chunk);
    }
    db.close();

    await rig.startServer();
    // Record when each water-level frame is written.
    rig.onFrame = (i, frame) => {
      const d = decodeLine(frame.trimEnd());
      if (i === 0 && d.ok && d.message.kind === 'RDG') emittedAt.set(d.message.seq, Date.now());
    };
    await rig.attachSensors();
    await rig.startGateway();
    // Live readings for 2.5 s at 10 per second, from the moment the replay starts.
    await rig.tick(25, 100, [0]);
    await rig.storedAtLeast(BACKLOG + rig.produced(), 30_000);

    const server = new Database(join(rig.dir, 'server', 'kentongan.db'), { readonly: true });
    try {
      const live = server.prepare("SELECT seq, received_ms AS r FROM readings WHERE sensor_id = 'ckr-wl-01' ORDER BY seq").all() as { seq: number; r: number }[];
      const first = live[0]!.seq;
      // The first RDG after HEL has raw seq 1; stored seq = raw seq within the one epoch.
      latencies = live.map((x) => x.r - emittedAt.get(x.seq - first + 1)!);
      liveFirstReceived = live[0]!.r;
      backlogLastReceived = (server.prepare("SELECT MAX(received_ms) AS m FROM readings WHERE sensor_id LIKE 'bk-%'").get() as { m: number }).m;
    } finally {
      server.close();
    }
    await sleep(100);
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('the backlog was still replaying while live readings arrived', () => {
    expect(emittedAt.size).toBe(25);
    expect(liveFirstReceived).toBeLessThan(backlogLastReceived);
  });

  it('every live reading reached the server within a second, and everything is stored once', () => {
    expect(latencies).toHaveLength(25);
    expect(latencies.every((l) => Number.isFinite(l) && l >= 0)).toBe(true);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`chaos-replay-live: live latency ms p50 ${sorted[12]}, max ${sorted.at(-1)}; backlog ${BACKLOG} drained ${backlogLastReceived - liveFirstReceived} ms after the first live reading`);
    expect(sorted.at(-1)!).toBeLessThan(1000);
    const c = rig.count();
    expect(c.rows).toBe(BACKLOG + rig.produced());
    expect(c.distinct).toBe(c.rows);
  });
});
