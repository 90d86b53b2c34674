/**
 * Backtest over a real SQLite history: the same alerts as live detection, WIB times for
 * people, streamed in pages (many series, small chunks), hostile input refused (CLI and API).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import pino from 'pino';
import { readingSchema, type Reading } from '@kentongan/firmware-protocol';
import { runBacktest } from '../../src/backtest/backtest.ts';
import { backtestCommand } from '../../src/backtest/cli.ts';
import { mergedHistory, seriesOf } from '../../src/backtest/history.ts';
import { parseRules } from '../../src/backtest/input.ts';
import { createAlertEngine } from '../../src/alerts/index.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-reading-store.ts';
import { testConfig, WL_RULE } from '../alerts/helpers.ts';

let dir: string;
let db: Database.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kentongan-backtest-'));
  db = openDatabase(dir);
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-01-10T00:00:00.000Z');
/** Two flood peaks over two days, one reading every 10 minutes, plus a quiet second sensor. */
function history(): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < 288; i++) {
    const h = i / 6;
    const peak = (c: number, w: number, a: number) => a * Math.exp(-(((h - c) / w) ** 2));
    const v = 40 + peak(10, 3, 190) + peak(34, 2, 130);
    out.push(readingSchema.parse({ sensorId: 'wl-01', epoch: 1, seq: i, quantity: 'water_level', value: Number(v.toFixed(1)), unit: 'cm', ts: new Date(T0 + i * 600_000).toISOString(), quality: 'good' }));
    out.push(readingSchema.parse({ sensorId: 'ext-01', epoch: 1, seq: i, quantity: 'displacement', value: 3, unit: 'mm', ts: new Date(T0 + i * 600_000 + 1).toISOString(), quality: 'good' }));
  }
  return out;
}

describe('backtest', () => {
  it('reports what live detection raised, with WIB times, streaming in order', async () => {
    const config = testConfig({ dataDir: dir });
    const store = new SqliteReadingStore(db);
    const all = history();
    // Stored in shuffled batches: the backtest must still read event-time order.
    for (let i = 0; i < all.length; i += 50) store.insertBatch('gw-1', all.slice(i, i + 50).reverse(), new Date(T0));
    const engine = createAlertEngine({ db, config, logger: pino({ level: 'silent' }), now: () => new Date(T0), publishAreaLevel: () => {}, consoleWriter: () => {} });
    engine.onStoredReadings(store.history({ sensorId: 'wl-01', quantity: 'water_level', limit: 10_000 }));
    const live = engine.listAlerts().reverse();

    const report = await runBacktest(db, { rules: config.rules, fromMs: T0, toMs: T0 + 2 * 86_400_000 });
    expect(report.readings).toBe(288);
    expect(report.summary.alerts).toBe(2);
    expect(report.alerts.map((a) => a.maxLevel)).toEqual(live.map((a) => a.maxLevel));
    expect(report.alerts.map((a) => a.maxLevel)).toEqual(['Awas', 'Siaga']);
    expect(report.summary.byRule['cikeruh-wl']).toEqual({ alerts: 2, Waspada: 2, Siaga: 2, Awas: 1 });
    expect(report.alerts[0]!.openedAtLocal).toMatch(/^2026-01-10T1\d:\d\d:00\.000\+07:00$/);
    expect(report.alerts.every((a) => a.closedAt !== null)).toBe(true);

    // Paging: a tiny chunk over two series still yields strictly non-decreasing event time.
    let last = -Infinity;
    let n = 0;
    for (const chunk of mergedHistory(db, seriesOf(db, ['wl-01', 'ext-01']), T0, T0 + 2 * 86_400_000, 7)) {
      for (const r of chunk) {
        expect(r.tsMs).toBeGreaterThanOrEqual(last);
        last = r.tsMs;
        n++;
      }
    }
    expect(n).toBe(576);
  });

  it('a stricter rule set raises fewer alerts (tuning before changing thresholds)', async () => {
    const store = new SqliteReadingStore(db);
    store.insertBatch('gw-1', history(), new Date(T0));
    const strict = parseRules([{ ...WL_RULE, levels: { Waspada: { raise: 180, clear: 170 } } }]);
    const report = await runBacktest(db, { rules: strict, fromMs: T0, toMs: T0 + 2 * 86_400_000 });
    expect(report.summary.alerts).toBe(1);
  });

  it('CLI: prints a WIB table and progress, and refuses bad input with exit code 2', async () => {
    const config = testConfig({ dataDir: dir });
    new SqliteReadingStore(db).insertBatch('gw-1', history(), new Date(T0));
    db.close();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    expect(await backtestCommand(config, { from: '2026-01-10', to: '2026-01-12' }, io)).toBe(0);
    expect(out.join('')).toContain('Peringatan / alerts: 2');
    expect(out.join('')).toMatch(/2026-01-10 1\d:\d\d WIB/);
    expect(err.join('')).toContain('backtest: 100%');

    const rulesFile = join(dir, 'rules.json');
    const cases: [Record<string, string>, string][] = [
      [{ from: 'yesterday', to: '2026-01-12' }, 'from'],
      [{ from: '2026-01-12', to: '2026-01-10' }, 'to harus sesudah from'],
      [{ from: '2026-01-10T00:00:00', to: '2026-01-12' }, 'zona waktu'],
      [{ from: '2020-01-01', to: '2026-01-12' }, '800'],
      [{ from: '2026-01-10', to: '2026-01-12', rules: join(dir, 'missing.json') }, 'cannot read'],
      [{ from: '2026-01-10', to: '2026-01-12', rules: rulesFile }, 'invalid rules'],
    ];
    writeFileSync(rulesFile, JSON.stringify({ rules: [{ ...WL_RULE, levels: { Waspada: { raise: 10, clear: 20 } } }] }));
    for (const [opts, message] of cases) {
      err.length = 0;
      expect(await backtestCommand(config, opts as never, io)).toBe(2);
      expect(err.join('')).toContain(message);
    }
  });
});
