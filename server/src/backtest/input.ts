/**
 * Validation of backtest input shared by the CLI and the API: rule sets (the config's rule
 * schema plus the cross-field checks) and time windows (ISO with offset, or a bare date taken
 * as midnight WIB, since that is how people in Sumedang name a day).
 */
import { z } from 'zod';
import { formatZodError } from '@kentongan/firmware-protocol';
import { ruleSchema, type Rule } from '../config/schema.ts';
import { ruleSetProblemsOf } from '../detection/detector.ts';

/** Longest window one backtest may cover (two rainy seasons). */
export const MAX_WINDOW_MS = 800 * 86_400_000;
export const MAX_RULES = 500;

export class BacktestInputError extends Error {
  readonly code = 'BACKTEST_INVALID';
}

export const rulesSchema = z.array(ruleSchema).min(1).max(MAX_RULES);

/** Rules from parsed JSON (an array or `{ rules: [...] }`); throws `BacktestInputError`. */
export function parseRules(json: unknown): Rule[] {
  const list = json !== null && typeof json === 'object' && !Array.isArray(json) && 'rules' in json ? (json as { rules: unknown }).rules : json;
  const parsed = rulesSchema.safeParse(list);
  if (!parsed.success) throw new BacktestInputError(`aturan tidak valid / invalid rules:\n${formatZodError(parsed.error)}`);
  const problems = ruleSetProblemsOf(parsed.data);
  if (problems.length > 0) throw new BacktestInputError(`aturan tidak valid / invalid rules:\n${problems.join('\n')}`);
  return parsed.data;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A time: ISO 8601 with `Z` or an offset, or `YYYY-MM-DD` (00:00 WIB). */
export function parseTime(text: unknown, name: string): number {
  if (typeof text !== 'string' || text.length > 40) throw new BacktestInputError(`${name}: waktu ISO diperlukan / an ISO time is required`);
  const withZone = DATE_ONLY.test(text) ? `${text}T00:00:00+07:00` : text;
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(withZone)) throw new BacktestInputError(`${name}: sebutkan zona waktu (Z atau +07:00) / give a time zone`);
  const ms = Date.parse(withZone);
  if (!Number.isFinite(ms)) throw new BacktestInputError(`${name}: waktu tidak valid / invalid time "${text}"`);
  return ms;
}

export function parseWindow(from: unknown, to: unknown): { fromMs: number; toMs: number } {
  const fromMs = parseTime(from, 'from');
  const toMs = parseTime(to, 'to');
  if (toMs <= fromMs) throw new BacktestInputError('to harus sesudah from / to must be after from');
  if (toMs - fromMs > MAX_WINDOW_MS) throw new BacktestInputError('jendela paling lama 800 hari / window at most 800 days');
  return { fromMs, toMs };
}
