/**
 * Alert routes: list, acknowledge, resolve; and `GET /areas` with the current level per area.
 * The alert engine owns the lifecycle; its errors carry codes that error-handler.ts maps
 * (unknown alert -> 404, already resolved -> 409).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { LEVELS, type Level } from '@kentongan/firmware-protocol';
import type { Alert, AlertEngine } from '../alerts/types.ts';
import type { RouteOptions } from './deps.ts';
import { HttpError } from './error-handler.ts';
import { alertActionBody, alertParams, alertSchema as baseAlertSchema, alertsQuery, areasResponse, errorResponse } from './schemas.ts';
import { toWib } from './time.ts';
import { lateNotice } from '../alerts/late.ts';
import { z } from 'zod';

const bilingual = z.object({ id: z.string(), en: z.string() });
/** Issue 4 additions: audience, late-data delay and the evidence's description. */
const alertSchema = baseAlertSchema.extend({
  evidence: z.object({ value: z.number(), unit: z.string(), ts: z.string(), threshold: z.number(), description: bilingual.optional() }),
  audience: z.enum(['public', 'technician']),
  lateByMs: z.number().nullable(),
  lateNotice: bilingual.nullable(),
});
const alertResponse = z.object({ alert: alertSchema });
const alertEvent = z.object({
  change: z.string(),
  from: z.enum(LEVELS).nullable(),
  to: z.enum(LEVELS),
  actor: z.string(),
  at: z.string(),
  atLocal: z.string(),
  note: z.string().nullable(),
});
/** `events` is null when the engine keeps no audit trail. */
const alertDetailResponse = z.object({ alert: alertSchema, events: z.array(alertEvent).nullable() });

interface AuditEvent {
  change: string;
  from: Level | null;
  to: Level;
  actor: string;
  at: string;
  note: string | null;
}

/** The audit trail, when the engine offers one (the real engine's `auditTrail`). */
function auditTrailOf(engine: AlertEngine, id: string) {
  const withAudit = engine as AlertEngine & { auditTrail?: (alertId: string) => AuditEvent[] };
  if (typeof withAudit.auditTrail !== 'function') return null;
  return withAudit.auditTrail(id).map((e) => ({
    change: e.change,
    from: e.from,
    to: e.to,
    actor: e.actor,
    at: e.at,
    atLocal: toWib(e.at),
    note: e.note,
  }));
}

export const alertRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { engine } = deps;

  app.get(
    '/alerts',
    {
      schema: {
        summary: 'Daftar peringatan / alerts',
        tags: ['alerts'],
        querystring: alertsQuery,
        response: { 200: z.object({ alerts: z.array(alertSchema) }), 400: errorResponse },
      },
    },
    async (request) => {
      const { state, areaId, limit } = request.query;
      return { alerts: engine.listAlerts({ state, areaId, limit }).map(present) };
    },
  );

  app.get(
    '/alerts/:id',
    {
      schema: {
        summary: 'Satu peringatan dengan jejak auditnya / one alert with its audit trail',
        tags: ['alerts'],
        params: alertParams,
        response: { 200: alertDetailResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { id } = request.params;
      const alert = engine.getAlert(id);
      if (!alert) throw new HttpError(404, 'ALERT_NOT_FOUND', `peringatan tidak dikenal "${id}" / unknown alert "${id}"`);
      return { alert: present(alert), events: auditTrailOf(engine, id) };
    },
  );

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post(
      `/alerts/:id/${action}`,
      {
        schema: {
          summary: action === 'acknowledge' ? 'Terima peringatan / acknowledge an alert' : 'Selesaikan peringatan / resolve an alert',
          tags: ['alerts'],
          params: alertParams,
          body: alertActionBody,
          response: { 200: alertResponse, 400: errorResponse, 404: errorResponse, 409: errorResponse },
        },
      },
      async (request) => {
        const { id } = request.params;
        if (!engine.getAlert(id)) throw new HttpError(404, 'ALERT_NOT_FOUND', `peringatan tidak dikenal "${id}" / unknown alert "${id}"`);
        const { by, note } = request.body;
        const alert = action === 'acknowledge' ? engine.acknowledge(id, by, note ?? null) : engine.resolve(id, by, note ?? null);
        request.log.info({ alertId: id, action, by }, 'alert updated by operator');
        return { alert: present(alert) };
      },
    );
  }

  app.get(
    '/areas',
    { schema: { summary: 'Level saat ini per wilayah / current level per area', tags: ['alerts'], response: { 200: areasResponse } } },
    async () => {
      const levels = engine.areaLevels();
      const active = engine.listAlerts({ state: 'active' });
      return {
        areas: deps.config.areas.map((a) => ({
          id: a.id,
          name: a.name,
          level: levels[a.id] ?? 'Normal',
          activeAlerts: active.filter((al) => al.areaId === a.id).length,
        })),
      };
    },
  );
};

function present(a: Alert) {
  const lateByMs = a.lateByMs ?? null;
  return { ...a, openedAtLocal: toWib(a.openedAt), audience: a.audience ?? 'public', lateByMs, lateNotice: lateByMs === null ? null : lateNotice(lateByMs) };
}
