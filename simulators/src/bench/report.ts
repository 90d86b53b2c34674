/** The machine-readable last line every benchmark prints (see docs/BENCHMARKS.md). */
import { cpus } from 'node:os';

export interface BenchResult {
  bench: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  lost: number | null;
  [extra: string]: unknown;
}

export function benchLine(result: BenchResult): string {
  return JSON.stringify({ ...result, node: process.version, cpus: cpus().length, date: new Date().toISOString() });
}

/** A plain table for people: one row per figure. */
export function printTable(rows: [string, string | number][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
