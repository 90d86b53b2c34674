import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reading } from '@kentongan/firmware-protocol';
import { readingSchema } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openGatewayDatabase, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { tempDir } from '../helpers/fixtures.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const reading = (seq: number): Reading => ({
  sensorId: 'wl-01',
  epoch: 0,
  seq,
  quantity: 'water_level',
  value: seq * 1.5,
  unit: 'cm',
  ts: '2025-01-01T00:00:00.000Z',
  quality: 'good',
});
const readings = (from: number, n: number) => Array.from({ length: n }, (_, i) => reading(from + i));

describe('DiskQueue', () => {
  let dir: string;
  let cleanup: () => void;
  let db: GatewayDatabase;
  let clock = 0;
  const open = (maxReadings = 1000) => {
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    return new DiskQueue(db, { maxReadings, nowMs: () => clock });
  };

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    clock = 1_000_000;
  });
  afterEach(() => {
    if (db?.open) db.close();
    cleanup();
  });

  it('uses WAL and synchronous=FULL', () => {
    open();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
  });

  it('appends, peeks oldest first, and removes only what it is told', () => {
    const q = open();
    const ids = q.append(readings(0, 5));
    expect(ids).toHaveLength(5);
    expect(q.depth()).toBe(5);
    const batch = q.peekBatch(3);
    expect(batch.map((r) => r.reading.seq)).toEqual([0, 1, 2]);
    expect(q.peekBatch(10, batch.at(-1)!.id).map((r) => r.reading.seq)).toEqual([3, 4]);
    expect(q.remove(batch.map((r) => r.id))).toBe(3);
    expect(q.remove(batch.map((r) => r.id))).toBe(0); // already gone
    expect(q.depth()).toBe(2);
    expect(q.peekBatch(10).map((r) => r.reading)).toEqual(readings(3, 2));
  });

  it('removes a range and counts rows in a range', () => {
    const q = open();
    const ids = q.append(readings(0, 10));
    expect(q.countRange(ids[2]!, ids[5]!)).toBe(4);
    expect(q.removeRange(ids[2]!, ids[5]!)).toBe(4);
    expect(q.peekRange(ids[0]!, ids[9]!).map((r) => r.reading.seq)).toEqual([0, 1, 6, 7, 8, 9]);
    expect(q.depth()).toBe(6);
  });

  it('never reuses an id, even after the newest rows were removed or a reopen', () => {
    let q = open();
    expect(q.newestId()).toBe(0);
    const first = q.append(readings(0, 3));
    q.remove(first);
    expect(q.newestId()).toBe(first.at(-1));
    db.close();
    q = open();
    expect(q.newestId()).toBe(first.at(-1));
    const second = q.append(readings(3, 1));
    expect(second[0]).toBeGreaterThan(first.at(-1)!);
    expect(q.newestId()).toBe(second[0]);
  });

  it('reports the age of the oldest reading from the injected clock', () => {
    const q = open();
    expect(q.oldestAgeS()).toBeNull();
    q.append(readings(0, 1));
    clock += 90_000;
    q.append(readings(1, 1));
    expect(q.oldestAgeS()).toBe(90);
  });

  it('when full, drops the oldest readings and counts them', () => {
    const q = open(10);
    q.append(readings(0, 8));
    q.append(readings(8, 5));
    expect(q.depth()).toBe(10);
    expect(q.dropped).toBe(3);
    expect(q.peekBatch(100).map((r) => r.reading.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('drops and counts a row whose JSON is damaged instead of blocking the queue behind it', () => {
    const q = open();
    const ids = q.append(readings(0, 3));
    db.prepare('UPDATE readings SET reading = ? WHERE id = ?').run('{"sensorId": "wl', ids[1]);
    expect(q.peekBatch(10).map((r) => r.reading.seq)).toEqual([0, 2]);
    expect(q.dropped).toBe(1);
    expect(q.depth()).toBe(2);
    expect(q.peekBatch(10)).toHaveLength(2);
  });

  it('keeps every row across close and reopen, with the right depth', () => {
    let q = open();
    q.append(readings(0, 7));
    q.remove(q.peekBatch(2).map((r) => r.id));
    db.close();
    q = open();
    expect(q.depth()).toBe(5);
    expect(q.peekBatch(100).map((r) => r.reading)).toEqual(readings(2, 5));
  });

  it('an append inside an outer transaction that rolls back leaves nothing, and resync fixes the depth', () => {
    const q = open();
    q.append(readings(0, 2));
    expect(() =>
      db.transaction(() => {
        q.append(readings(2, 3));
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    q.resync();
    expect(q.depth()).toBe(2);
    expect(q.peekBatch(10)).toHaveLength(2);
  });

  it('a process killed with SIGKILL while appending leaves a database with every committed row', async () => {
    const file = join(dir, 'killed.sqlite');
    const batchSize = 25;
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'gateway/test/queue/fixtures/append-loop.ts'), file, String(batchSize)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastCommitted = 0;
    let commits = 0;
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (b: Buffer) => {
        buffered += b.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          lastCommitted = Number(line.split(' ')[1]);
          if (++commits === 200) {
            child.kill('SIGKILL');
            resolve();
          }
        }
      });
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');

    db = openGatewayDatabase(file);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const q = new DiskQueue(db, { maxReadings: 10_000_000 });
    const rows = q.peekBatch(1_000_000);
    // Every id reported as committed is there, ids are contiguous from 1, and appends were
    // all-or-nothing (whole batches only).
    expect(rows.length).toBeGreaterThanOrEqual(lastCommitted);
    expect(rows.length % batchSize).toBe(0);
    expect(rows.at(-1)!.id).toBe(rows.length);
    expect(q.depth()).toBe(rows.length);
    for (const r of rows) readingSchema.parse(r.reading);
    expect(rows.map((r) => r.reading.seq)).toEqual(rows.map((_, i) => i));
  });
});
