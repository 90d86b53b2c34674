/**
 * Delivery status per alert: how many outbox rows of each channel are pending, sent, failed,
 * superseded or cancelled, and a page of rows (recipient ids and roles, never addresses).
 *
 *   GET /api/v1/alerts/:id/deliveries?status=&limit=&offset=
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OUTBOX_STATUSES } from '../notify/outbox.ts';
import type { RouteOptions } from './deps.ts';
import { HttpError } from './error-handler.ts';
import type { NotifyDeps } from './notify-deps.ts';
import { errorResponse } from './schemas.ts';
import { toWib } from './time.ts';

const counts = z.object(Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, z.number()])) as Record<(typeof OUTBOX_STATUSES)[number], z.ZodNumber>);

export const deliveryRoutes: FastifyPluginAsyncZod<RouteOptions & { notify: NotifyDeps }> = async (app, { deps, notify }) => {
  app.get(
    '/alerts/:id/deliveries',
    {
      schema: {
        summary: 'Status pengiriman per peringatan / delivery status of an alert',
        tags: ['alerts'],
        params: z.object({ id: z.string().min(1).max(100) }),
        querystring: z.object({
          status: z.enum(OUTBOX_STATUSES).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
        }),
        response: {
          200: z.object({
            alertId: z.string(),
            totals: counts,
            channels: z.array(z.object({ channelId: z.string(), channelKind: z.string(), counts })),
            rows: z.array(
              z.object({
                id: z.number(),
                channelId: z.string(),
                change: z.string(),
                recipientId: z.string().nullable(),
                recipientRole: z.string().nullable(),
                status: z.enum(OUTBOX_STATUSES),
                attempts: z.number(),
                lastError: z.string().nullable(),
                createdAt: z.string(),
                sentAt: z.string().nullable(),
                sentAtLocal: z.string().nullable(),
              }),
            ),
          }),
          404: errorResponse,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!deps.engine.getAlert(id)) throw new HttpError(404, 'ALERT_NOT_FOUND', `peringatan tidak dikenal / unknown alert "${id.slice(0, 100)}"`);
      const channels = notify.outbox.deliverySummary(id);
      const totals = { pending: 0, sent: 0, failed: 0, superseded: 0, cancelled: 0 };
      for (const c of channels) for (const s of OUTBOX_STATUSES) totals[s] += c.counts[s];
      const { status, limit, offset } = request.query;
      const rows = notify.outbox.deliveryPage(id, status ?? '', limit, offset).map((r) => ({
        id: r.id,
        channelId: r.channelId,
        change: r.change,
        recipientId: r.recipientId === '' ? null : r.recipientId,
        recipientRole: r.recipientRole,
        status: r.status,
        attempts: r.attempts,
        lastError: r.lastError,
        createdAt: r.createdAt,
        sentAt: r.sentAt,
        sentAtLocal: r.sentAt ? toWib(r.sentAt) : null,
      }));
      return { alertId: id, totals, channels, rows };
    },
  );
};
