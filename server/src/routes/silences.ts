/**
 * Silences (maintenance windows) per sensor or site: create, list, end early. Audited in the
 * engine's `alert_silences` table (who, when, why). What a silence suppresses is documented in
 * server/src/alerts/README.md ("Silencing"): notifications and the area level, never detection.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ID_PATTERN } from '@kentongan/firmware-protocol';
import type { KentonganAlertEngine } from '../alerts/engine.ts';
import type { Silence } from '../alerts/silences.ts';
import type { RouteOptions } from './deps.ts';
import { HttpError } from './error-handler.ts';
import { errorResponse } from './schemas.ts';
import { toWib, toWibOrNull } from './time.ts';

const silenceSchema = z.object({
  id: z.string(),
  scope: z.enum(['sensor', 'site']),
  targetId: z.string(),
  reason: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  expiresAtLocal: z.string(),
  endedBy: z.string().nullable(),
  endedAt: z.string().nullable(),
  endedAtLocal: z.string().nullable(),
});

const createBody = z
  .strictObject({
    scope: z.enum(['sensor', 'site']).describe('sensor atau lokasi / sensor or site'),
    targetId: z.string().regex(ID_PATTERN).describe('id sensor atau lokasi / sensor or site id'),
    durationMinutes: z.int().min(1).max(43_200).optional().describe('lama, menit / duration in minutes (max 30 days)'),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe('atau sampai / or until (ISO, with zone)'),
    reason: z.string().max(1000).nullable().optional(),
    by: z.string().trim().min(1).max(64).describe('Nama petugas / operator name'),
  })
  .refine((b) => (b.durationMinutes === undefined) !== (b.expiresAt === undefined), {
    message: 'berikan durationMinutes atau expiresAt (salah satu) / give exactly one of durationMinutes or expiresAt',
  });

const endBody = z.strictObject({ by: z.string().trim().min(1).max(64) });
const idParams = z.object({ id: z.string().min(1).max(64) });
const listQuery = z.strictObject({
  all: z.enum(['true', 'false']).optional().describe('true = also ended and expired ones'),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

function present(s: Silence) {
  return { ...s, expiresAtLocal: toWib(s.expiresAt), endedAtLocal: toWibOrNull(s.endedAt) };
}

export const silenceRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const engine = deps.engine as Partial<KentonganAlertEngine>;
  const need = () => {
    if (typeof engine.createSilence !== 'function') throw new HttpError(501, 'NOT_SUPPORTED', 'mesin peringatan tanpa pemeliharaan / engine has no silences');
    return engine as KentonganAlertEngine;
  };
  const known = (scope: 'sensor' | 'site', id: string) =>
    scope === 'sensor' ? deps.config.sensors.some((s) => s.id === id) : deps.config.sites.some((s) => s.id === id);

  app.post(
    '/silences',
    {
      schema: {
        summary: 'Buat masa pemeliharaan / create a silence (maintenance window)',
        tags: ['alerts'],
        body: createBody,
        response: { 201: z.object({ silence: silenceSchema }), 400: errorResponse, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (!known(b.scope, b.targetId)) throw new HttpError(404, 'TARGET_NOT_FOUND', `${b.scope} tidak dikenal / unknown ${b.scope} "${b.targetId}"`);
      const expiresAt = b.expiresAt ?? new Date(deps.now().getTime() + b.durationMinutes! * 60_000).toISOString();
      const silence = need().createSilence({ scope: b.scope, targetId: b.targetId, expiresAt, reason: b.reason ?? null, by: b.by });
      return reply.code(201).send({ silence: present(silence) });
    },
  );

  app.get(
    '/silences',
    {
      schema: {
        summary: 'Daftar masa pemeliharaan / list silences',
        tags: ['alerts'],
        querystring: listQuery,
        response: { 200: z.object({ silences: z.array(silenceSchema) }), 400: errorResponse },
      },
    },
    async (request) => ({
      silences: need()
        .listSilences({ all: request.query.all === 'true', ...(request.query.limit ? { limit: request.query.limit } : {}) })
        .map(present),
    }),
  );

  app.delete(
    '/silences/:id',
    {
      schema: {
        summary: 'Akhiri masa pemeliharaan / end a silence early',
        tags: ['alerts'],
        params: idParams,
        body: endBody,
        response: { 200: z.object({ silence: silenceSchema }), 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => ({ silence: present(need().endSilence(request.params.id, request.body.by)) }),
  );
};
