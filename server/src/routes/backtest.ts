/**
 * `POST /backtest`: run a rule set (default: the configured one) over stored history and report
 * what it would have raised. One run at a time (409 while busy); a run is cut after
 * `BACKTEST_TIME_LIMIT_MS`. The CLI (`kentongan-server backtest`) runs the same code.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BacktestOptions, BacktestReport } from '../backtest/backtest.ts';
import { BacktestAbortedError } from '../backtest/backtest.ts';
import { BacktestInputError, parseRules, parseWindow } from '../backtest/input.ts';
import type { RouteOptions } from './deps.ts';
import { HttpError } from './error-handler.ts';
import { errorResponse } from './schemas.ts';

export const BACKTEST_TIME_LIMIT_MS = 120_000;

/** What the route needs from the server: a runner over its database. */
export interface BacktestDeps {
  run: (opts: Omit<BacktestOptions, 'detectorFactory'>) => Promise<BacktestReport>;
}

const body = z.strictObject({
  rules: z.array(z.unknown()).min(1).max(500).optional().describe('aturan untuk diuji / rules to test; default: configured'),
  from: z.string().max(40).describe('ISO dengan zona atau YYYY-MM-DD (00:00 WIB)'),
  to: z.string().max(40),
  maxAlerts: z.int().min(1).max(5000).optional(),
});

export const backtestRoutes: FastifyPluginAsyncZod<RouteOptions & { backtest: BacktestDeps }> = async (app, { deps, backtest }) => {
  let busy = false;
  app.post(
    '/backtest',
    {
      schema: {
        summary: 'Uji balik aturan pada data tersimpan / backtest rules over stored history',
        tags: ['alerts'],
        body,
        response: { 200: z.record(z.string(), z.unknown()), 400: errorResponse, 409: errorResponse, 503: errorResponse },
      },
    },
    async (request) => {
      let rules = deps.config.rules;
      let window: { fromMs: number; toMs: number };
      try {
        if (request.body.rules) rules = parseRules(request.body.rules);
        window = parseWindow(request.body.from, request.body.to);
      } catch (err) {
        if (err instanceof BacktestInputError) throw new HttpError(400, err.code, err.message);
        throw err;
      }
      if (rules.length === 0) throw new HttpError(400, 'BACKTEST_INVALID', 'tidak ada aturan / no rules');
      if (busy) throw new HttpError(409, 'BACKTEST_BUSY', 'uji balik lain sedang berjalan / another backtest is running');
      busy = true;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), BACKTEST_TIME_LIMIT_MS);
      try {
        return (await backtest.run({ rules, ...window, signal: abort.signal, ...(request.body.maxAlerts ? { maxAlerts: request.body.maxAlerts } : {}) })) as unknown as Record<string, unknown>;
      } catch (err) {
        if (err instanceof BacktestAbortedError) throw new HttpError(503, 'BACKTEST_TOO_LONG', 'uji balik terlalu lama; persempit jendela / backtest took too long; narrow the window');
        throw err;
      } finally {
        clearTimeout(timer);
        busy = false;
      }
    },
  );
};
