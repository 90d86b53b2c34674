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

export type { AppDeps } from './routes/deps.ts';

/** Largest request body accepted; the API takes only small JSON bodies (operator notes). */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const API_PREFIX = '/api/v1';
/** The operator dashboard: static files, no build step (dashboards/operator in this repository). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboards/operator/', import.meta.url));

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
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
  await app.register(metricsRoutes, opts);
  await app.register(fastifyStatic, { root: DASHBOARD_DIR, prefix: '/', index: 'index.html' });
  return app;
}
