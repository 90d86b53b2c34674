/** `GET /sensors/:id/readings`: the history of one sensor and quantity, bounded by `limit`. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteOptions } from './deps.ts';
import { HttpError } from './error-handler.ts';
import { errorResponse, historyQuery, historyResponse, sensorParams } from './schemas.ts';
import { toWib } from './time.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export const sensorRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/sensors/:id/readings',
    {
      schema: {
        summary: 'Riwayat data sensor / reading history of a sensor',
        tags: ['sensors'],
        params: sensorParams,
        querystring: historyQuery,
        response: { 200: historyResponse, 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { quantity, limit } = request.query;
      const to = request.query.to ? new Date(request.query.to) : deps.now();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - DAY_MS);
      if (from.getTime() > to.getTime()) {
        throw new HttpError(400, 'VALIDATION_FAILED', 'querystring: from tidak boleh sesudah to / from must not be after to');
      }
      const known = deps.config.sensors.some((s) => s.id === id) || deps.store.latest(id).length > 0;
      if (!known) throw new HttpError(404, 'SENSOR_NOT_FOUND', `sensor tidak dikenal "${id}" / unknown sensor "${id}"`);
      // One more than asked tells whether the window was cut.
      const rows = deps.store.history({ sensorId: id, quantity, from, to, limit: limit + 1 });
      const truncated = rows.length > limit;
      const readings = truncated ? rows.slice(rows.length - limit) : rows;
      return {
        sensorId: id,
        quantity,
        from: from.toISOString(),
        to: to.toISOString(),
        truncated,
        readings: readings.map((r) => ({
          ts: r.ts,
          tsLocal: toWib(r.ts),
          value: r.value,
          unit: r.unit,
          quality: r.quality,
          epoch: r.epoch,
          seq: r.seq,
        })),
      };
    },
  );
};
