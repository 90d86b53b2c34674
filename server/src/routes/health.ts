/** `GET /health`: liveness for operators and monitors; 503 when the database does not answer. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteOptions } from './deps.ts';
import { healthResponse } from './schemas.ts';
import { toWib } from './time.ts';

export const healthRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Kesehatan server / server health',
        tags: ['system'],
        response: { 200: healthResponse, 503: healthResponse },
      },
    },
    async (_request, reply) => {
      const now = deps.now();
      let readings: number | null = null;
      let ok = deps.dbHealthy();
      if (ok) {
        try {
          readings = deps.store.count();
        } catch {
          ok = false;
        }
      }
      const body = {
        status: ok ? ('ok' as const) : ('degraded' as const),
        time: now.toISOString(),
        timeLocal: toWib(now.toISOString()),
        startedAt: deps.startedAt.toISOString(),
        uptimeS: Math.max(0, (now.getTime() - deps.startedAt.getTime()) / 1000),
        broker: {
          clients: deps.broker.connectedClients(),
          gatewaysOnline: deps.broker.connectedGateways().size,
          gatewaysConfigured: deps.config.gateways.length,
        },
        db: { ok, readings },
      };
      return reply.code(ok ? 200 : 503).send(body);
    },
  );
};
