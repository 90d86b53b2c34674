/**
 * Power loss during writes, as far as a test can make it: a child process appends batches and is
 * killed with SIGKILL (kill -9); then copies of its database are made whose write-ahead log ends
 * at arbitrary byte offsets or carries garbage at the end, as a power cut in the middle of
 * writing the log would leave it. The queue relies on SQLite's WAL recovery (frame checksums and
 * salts; https://www.sqlite.org/walformat.html): every copy must open, pass integrity_check, and
 * hold whole batches only, a contiguous prefix of what was appended, never a torn batch.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, statSync, truncateSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { tempDir } from '../helpers/fixtures.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BATCH = 20;

describe('queue after kill -9 and a torn write-ahead log', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  let lastCommitted = 0;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    file = join(dir, 'gw.sqlite');
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'gateway/test/queue/fixtures/append-loop.ts'), file, String(BATCH)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.on('exit', r));
    await new Promise<void>((resolve) => {
      let buf = '';
      let commits = 0;
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          lastCommitted = Number(l.split(' ')[1]);
          if (++commits === 150) {
            child.kill('SIGKILL');
            resolve();
          }
        }
      });
    });
    await exited;
  }, 30_000);
  afterAll(() => cleanup());

  /** Opens a copy whose WAL was changed by `tamper`; returns the rows' seqs. */
  function openCopy(name: string, tamper: (wal: string) => void): number[] {
    const copy = join(dir, `${name}.sqlite`);
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) {
      copyFileSync(`${file}-wal`, `${copy}-wal`);
      tamper(`${copy}-wal`);
    }
    const db = openGatewayDatabase(copy);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const q = new DiskQueue(db, { maxReadings: 10_000_000 });
      const rows = q.peekBatch(1_000_000);
      expect(q.depth()).toBe(rows.length);
      return rows.map((r) => r.reading.seq);
    } finally {
      db.close();
    }
  }

  it('the killed file holds every batch reported committed', () => {
    const seqs = openCopy('as-killed', () => {});
    expect(seqs.length).toBeGreaterThanOrEqual(lastCommitted);
    expect(seqs.length % BATCH).toBe(0);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('a log cut at any point, or ending in garbage, leaves whole batches, a prefix of the appends', () => {
    const walSize = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
    expect(walSize).toBeGreaterThan(0); // the test is only meaningful with a log to tear
    const full = openCopy('full', () => {});
    let previous = -1;
    // Cuts from the end backwards, at odd offsets (inside frames, inside the header).
    const cuts = [walSize - 1, walSize - 333, Math.floor(walSize * 0.75) + 7, Math.floor(walSize / 2) + 1, 4133, 31, 0].filter((c) => c >= 0);
    const counts: number[] = [];
    for (const [i, cut] of cuts.entries()) {
      const seqs = openCopy(`cut-${i}`, (wal) => truncateSync(wal, cut));
      expect(seqs.length % BATCH).toBe(0);
      expect(seqs).toEqual(seqs.map((_, k) => k));
      expect(seqs.length).toBeLessThanOrEqual(full.length);
      counts.push(seqs.length);
      if (previous >= 0) expect(seqs.length).toBeLessThanOrEqual(previous);
      previous = seqs.length;
    }
    const garbage = openCopy('garbage', (wal) => appendFileSync(wal, Buffer.alloc(5000, 0xa5)));
    expect(garbage).toEqual(full);
    // The cuts really removed something (else the test proves nothing).
    expect(Math.min(...counts)).toBeLessThan(full.length);
  });
});
