/**
 * Chaos with real processes, the gateway side: the gateway CLI is killed with SIGKILL again and
 * again, quickly, while the sensors stream into it (so it is committing frames to its SQLite
 * queue and has batches in flight at each kill), and restarted on the same data folder.
 *
 * What must hold: nothing is ever stored twice; every reading the gateway committed reaches the
 * server (its queue ends empty, and rows leave it only on the server's ack); its database passes
 * integrity_check. What physics does not allow: frames on the serial line at the moment of the
 * kill are gone. The line protocol has no retransmission, a frame read but not yet committed dies
 * with the process, and serialport flushes the tty's input buffer when it opens a port
 * (tcflush(TCIOFLUSH) in @serialport/bindings-cpp), as a UART's small FIFO would lose them anyway.
 * So the sensors fall silent from the kill until the gateway is back (frames sent into a dead
 * gateway are lost on any real line too, and show up as sequence gaps). After each kill the test
 * reads, from the dead gateway's own database, the last sequence number it committed per sensor.
 * The requirement is then exact: the server holds every reading of every frame up to that number,
 * and the only frames missing are those written after it and before the restart (in transit at
 * the kill). Each is stored at most once. How many were in transit depends on machine load; the
 * test prints it.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLine } from '@kentongan/firmware-protocol';
import { ChaosRig, sleep } from './chaos-helpers.ts';

const KILLS = 5;

describe('chaos: gateway killed with SIGKILL while writing, many times', () => {
  let rig: ChaosRig;
  const signals: string[] = [];
  /** Raw seq of every RDG frame written, per sensor index. */
  const rdgSeqs: number[][] = [];
  /** Per kill and sensor: [last seq the gateway committed, last seq written before the restart]. */
  const inTransit: [number, number][][] = [];

  beforeAll(async () => {
    rig = await ChaosRig.create();
    const lastWritten: number[] = [];
    rig.onFrame = (i, frame) => {
      const d = decodeLine(frame.trimEnd());
      if (!d.ok) return;
      lastWritten[i] = d.message.seq;
      if (d.message.kind === 'RDG') (rdgSeqs[i] ??= []).push(d.message.seq);
    };
    await rig.startServer();
    await rig.startGateway();
    await rig.attachSensors();
    for (let k = 0; k < KILLS; k++) {
      const stop = { now: false };
      const streaming = rig.tick(200, 4, undefined, stop);
      // Die somewhere in the middle of the stream: 60-200 ms in (the stream would last about 1 s).
      await sleep(60 + ((k * 37) % 140));
      const killed = rig.kill(rig.gateway, 'SIGKILL');
      stop.now = true;
      signals.push(await killed);
      await streaming;
      const committed = committedSeqs(rig);
      inTransit.push(rig.sensors.map((sensor, i) => [committed.get(sensor.spec.id) ?? -1, lastWritten[i] ?? -1]));
      await rig.startGateway();
    }
    await rig.tick(20);
    // Settle: wait until the server holds what was produced, or stops growing (a measured loss).
    const end = Date.now() + 15_000;
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() < end) {
      const n = rig.countRows();
      if (n >= rig.produced()) break;
      if (n !== last) [last, stableSince] = [n, Date.now()];
      else if (Date.now() - stableSince > 3000) break;
      await sleep(100);
    }
    await sleep(300);
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('killed the gateway every time', () => {
    expect(signals).toEqual(Array(KILLS).fill('SIGKILL'));
  });

  it('stores nothing twice; every frame the gateway committed is stored; only frames in transit at a kill are missing', () => {
    const c = rig.count();
    expect(c.distinct).toBe(c.rows);
    let lost = 0;
    for (const [i, sensor] of rig.sensors.entries()) {
      const keys = c.keys.get(sensor.spec.id) ?? [];
      // Gateway restarts kept the sensor's epoch (sequence state on disk): no key was reissued.
      expect(new Set(keys.map((k) => k.split(':')[0])).size).toBe(1);
      // One epoch from HEL seq 0 and no wrap: the stored seq is the raw seq.
      const stored = keys.map((k) => Number(k.split(':')[1]));
      const missingOk = (seq: number) => inTransit.some((kill) => seq > kill[i]![0] && seq <= kill[i]![1]);
      const expected = rdgSeqs[i]!.filter((seq) => !missingOk(seq) || stored.includes(seq));
      expect(stored).toEqual(expected);
      lost += rdgSeqs[i]!.length - stored.length;
    }
    expect(rig.produced() - c.rows).toBe(lost);
    console.log(`chaos-gateway-kill: produced ${rig.produced()}, stored ${c.rows}, in transit at the ${KILLS} kills (lost) ${lost}`);
  });

  it('leaves a gateway database that passes integrity_check and an empty queue', async () => {
    await rig.kill(rig.gateway, 'SIGTERM');
    const db = new Database(join(rig.dir, 'gateway', 'gateway.sqlite'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
  });
});

/** The last raw seq the (dead) gateway committed per sensor, read from its own database. */
function committedSeqs(rig: ChaosRig): Map<string, number> {
  const db = new Database(join(rig.dir, 'gateway', 'gateway.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT sensor_id AS id, last_raw_seq AS seq FROM sensor_sequence').all() as { id: string; seq: number }[];
    return new Map(rows.map((r) => [r.id, r.seq]));
  } finally {
    db.close();
  }
}
