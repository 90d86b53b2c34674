/**
 * `kentongan-server backtest --config F [--rules R] --from T --to T [--json]`: runs a rule set
 * over the stored history of the server's database (read-only) and prints what it would have
 * raised, times in WIB. Progress goes to stderr, the report to stdout.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ServerConfig } from '../config/schema.ts';
import { DATABASE_FILE } from '../storage/database.ts';
import { runBacktest, type BacktestReport } from './backtest.ts';
import { BacktestInputError, parseRules, parseWindow } from './input.ts';

export interface BacktestCliOptions {
  rules?: string;
  from: string;
  to: string;
  json?: boolean;
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs the backtest command; returns the exit code (0 ok, 2 bad input, 1 failure). */
export async function backtestCommand(config: ServerConfig, opts: BacktestCliOptions, io: CliIo): Promise<number> {
  let rules = config.rules;
  let window: { fromMs: number; toMs: number };
  try {
    if (opts.rules) {
      let json: unknown;
      try {
        json = JSON.parse(await readFile(opts.rules, 'utf8'));
      } catch (err) {
        throw new BacktestInputError(`tidak bisa membaca / cannot read ${opts.rules}: ${(err as Error).message}`);
      }
      rules = parseRules(json);
    }
    window = parseWindow(opts.from, opts.to);
    if (rules.length === 0) throw new BacktestInputError('tidak ada aturan / no rules');
  } catch (err) {
    if (!(err instanceof BacktestInputError)) throw err;
    io.err(`${err.message}\n`);
    return 2;
  }
  let db: Database.Database;
  try {
    db = new Database(join(config.dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  } catch (err) {
    io.err(`basis data tidak bisa dibuka / cannot open the database in ${config.dataDir}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    let lastPct = -1;
    const report = await runBacktest(db, {
      rules,
      ...window,
      onProgress: (p) => {
        const pct = Math.floor(p.fraction * 100);
        if (pct >= lastPct + 5) {
          lastPct = pct;
          io.err(`backtest: ${pct}% (${p.readings} pembacaan / readings)\n`);
        }
      },
    });
    io.out(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    return 0;
  } finally {
    db.close();
  }
}

/** The report as a table for people, Bahasa Indonesia first, times in WIB. */
export function formatReport(r: BacktestReport): string {
  const wib = (s: string | null) => (s === null ? 'masih aktif / still open' : `${s.slice(0, 16).replace('T', ' ')} WIB`);
  const lines = [
    `Uji balik / backtest ${wib(r.fromLocal)} .. ${wib(r.toLocal)}: ${r.rules} aturan / rules, ${r.readings} pembacaan / readings`,
    `Peringatan / alerts: ${r.summary.alerts}, level tertinggi / highest level: ${r.summary.maxLevel}`,
    '',
    'aturan / rule                      peringatan  Waspada  Siaga  Awas',
  ];
  for (const [id, c] of Object.entries(r.summary.byRule)) {
    lines.push(`${id.padEnd(34)} ${String(c.alerts).padStart(10)} ${String(c.Waspada).padStart(8)} ${String(c.Siaga).padStart(6)} ${String(c.Awas).padStart(5)}`);
  }
  lines.push('', 'mulai / opened          selesai / closed        tertinggi / max  aturan / rule');
  for (const a of r.alerts) {
    lines.push(`${wib(a.openedAtLocal).padEnd(23)} ${wib(a.closedAtLocal).padEnd(23)} ${a.maxLevel.padEnd(16)} ${a.ruleId}`);
  }
  if (r.truncated) lines.push(`... (${r.summary.alerts - r.alerts.length} lagi / more)`);
  return `${lines.join('\n')}\n`;
}
