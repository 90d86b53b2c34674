/**
 * The HTTP app factory, apart from `listen` so tests drive it with `app.inject()`.
 * Routes live under `/api/v1`; OpenAPI at `/documentation/json`, Swagger UI at `/documentation`.
 * No authentication yet: bind to loopback or put it behind a reverse proxy (README, "Security").
 */
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { alertRoutes } from './routes/alerts.ts';
import type { AppDeps } from './routes/deps.ts';
import { installErrorHandlers } from './routes/error-handler.ts';
import { gatewayRoutes } from './routes/gateways.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { sensorRoutes } from './routes/sensors.ts';
import { sitesRoutes } from './routes/sites.ts';
import { atomRoutes, capRoutes } from './routes/cap.ts';
import { deliveryRoutes } from './routes/deliveries.ts';
import type { NotifyDeps } from './routes/notify-deps.ts';
import { subscriptionRoutes } from './routes/subscriptions.ts';
import type { GatewayControlService } from './gateways/gateway-control.ts';
import { gatewayControlRoutes } from './gateways/routes.ts';
import { backtestRoutes, type BacktestDeps } from './routes/backtest.ts';
import { silenceRoutes } from './routes/silences.ts';

export type { AppDeps } from './routes/deps.ts';

/** Largest request body accepted; the API takes only small JSON bodies (operator notes). */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const API_PREFIX = '/api/v1';
/** The operator dashboard: static files, no build step (dashboards/operator in this repository). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboards/operator/', import.meta.url));

/** `notify`: recipients, CAP and delivery-status routes (issue 5); without it they are not registered. */
export async function buildApp(deps: AppDeps & { gatewayControl?: GatewayControlService; notify?: NotifyDeps; backtest?: BacktestDeps }): Promise<FastifyInstance> {
  const app = Fastify({
    // pino 10's Logger type is wider than the FastifyBaseLogger fastify 5 declares; same runtime API.
    loggerInstance: deps.logger.child({ component: 'http' }) as unknown as FastifyBaseLogger,
    // Per-request lines are too chatty for a Pi's SD card; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Reject `__proto__` / `constructor` keys in JSON bodies instead of parsing them.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Kentongan API',
        description:
          'Sistem peringatan dini berbasis sensor (banjir, longsor) — sensor early-warning system (floods, landslides). ' +
          'Times: `ts` in UTC, `tsLocal` in WIB (UTC+7).',
        version: '1',
      },
      tags: [
        { name: 'system', description: 'Health and metrics' },
        { name: 'sites', description: 'Sites, sensors, latest values' },
        { name: 'sensors', description: 'Reading history' },
        { name: 'gateways', description: 'Gateway status and health' },
        { name: 'alerts', description: 'Alerts and area levels' },
        { name: 'recipients', description: 'Subscriptions and recipients (addresses masked)' },
        { name: 'cap', description: 'CAP 1.2 messages and the Atom feed' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/documentation' });

  const opts = { prefix: API_PREFIX, deps };
  await app.register(healthRoutes, opts);
  await app.register(sitesRoutes, opts);
  await app.register(sensorRoutes, opts);
  await app.register(gatewayRoutes, opts);
  await app.register(alertRoutes, opts);
  // Issue 4: silences (maintenance windows) and the backtest (needs the server's database).
  if (typeof (deps.engine as { createSilence?: unknown }).createSilence === 'function') await app.register(silenceRoutes, opts);
  if (deps.backtest) await app.register(backtestRoutes, { ...opts, backtest: deps.backtest });
  await app.register(metricsRoutes, opts);
  if (deps.gatewayControl) {
    // Remote config and edge alarms (server/src/gateways).
    await app.register(gatewayControlRoutes, { prefix: API_PREFIX, service: deps.gatewayControl, gateways: new Set(deps.config.gateways.map((g) => g.id)) });
  }
  if (deps.notify) {
    const notifyOpts = { ...opts, notify: deps.notify };
    await app.register(subscriptionRoutes, notifyOpts);
    await app.register(deliveryRoutes, notifyOpts);
    await app.register(capRoutes, notifyOpts);
    await app.register(atomRoutes, { deps, notify: deps.notify });
  }
  await app.register(fastifyStatic, { root: DASHBOARD_DIR, prefix: '/', index: 'index.html' });
  return app;
}
