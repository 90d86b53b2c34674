/**
 * Residents subscribe per area and channel, confirm with the code sent on that channel, and
 * leave at any time; operators list recipients. Addresses are always masked in answers
 * (`+62812****789`); the full number is never returned or logged.
 *
 *   POST   /subscriptions              {channelId, address, areaIds, language?} -> 202, code sent
 *   POST   /subscriptions/:id/confirm  {code}                                   -> 200 active
 *   GET    /subscriptions/:id                                                   -> 200 (masked)
 *   DELETE /subscriptions/:id                                                   -> 200, deleted
 *   GET    /recipients?kind=resident|staff&limit&offset                         -> masked list + counts
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ID_PATTERN } from '@kentongan/firmware-protocol';
import { isPeopleChannel } from '../notify/notifier.ts';
import type { NotificationPayload } from '../notify/outbox.ts';
import { renderConfirmation } from '../notify/templates/render.ts';
import { maskAddress } from '../recipients/address.ts';
import { RECIPIENT_ERROR_STATUS, RecipientError } from '../recipients/errors.ts';
import type { RecipientView } from '../recipients/store.ts';
import type { RouteOptions } from './deps.ts';
import { HttpError } from './error-handler.ts';
import type { NotifyDeps } from './notify-deps.ts';
import { errorResponse } from './schemas.ts';

const idSchema = z.string().regex(ID_PATTERN);
const subscriptionId = z.object({ id: z.string().min(1).max(64).regex(/^r-[0-9a-f]{16}$/, 'unknown subscription id') });
const subscriptionView = z.object({
  id: z.string(),
  kind: z.enum(['resident', 'staff']),
  role: z.string(),
  channelId: z.string(),
  address: z.string().describe('masked, e.g. +62812****789'),
  language: z.enum(['id', 'en', 'su']),
  status: z.enum(['pending', 'active']),
  areaIds: z.array(z.string()),
  escalationOrder: z.number(),
  createdAt: z.string(),
  confirmedAt: z.string().nullable(),
});

function present(v: RecipientView) {
  return { ...v, address: maskAddress(v.address) };
}

function asHttp(err: unknown): never {
  if (err instanceof RecipientError) throw new HttpError(RECIPIENT_ERROR_STATUS[err.code], err.code, err.message, { cause: err });
  throw err;
}

export const subscriptionRoutes: FastifyPluginAsyncZod<RouteOptions & { notify: NotifyDeps }> = async (app, { deps, notify }) => {
  const areaIds = new Set(deps.config.areas.map((a) => a.id));
  const channelKinds = new Map(notify.channels.map((c) => [c.id, c.kind]));

  app.post(
    '/subscriptions',
    {
      schema: {
        summary: 'Berlangganan peringatan per wilayah dan kanal / subscribe to warnings for areas on a channel',
        tags: ['recipients'],
        body: z.strictObject({
          channelId: idSchema,
          address: z.string().min(3).max(254).describe('phone (08…, 62…, +62…) or e-mail, by channel'),
          areaIds: z.array(idSchema).min(1).max(20),
          language: z.enum(['id', 'en', 'su']).default('id'),
        }),
        response: { 202: z.object({ subscription: subscriptionView }), 400: errorResponse, 429: errorResponse },
      },
    },
    async (request, reply) => {
      const { channelId, address, language } = request.body;
      const kind = channelKinds.get(channelId);
      if (kind === undefined) throw new HttpError(400, 'UNKNOWN_CHANNEL', `kanal tidak dikenal / unknown channel "${channelId}"`);
      if (!isPeopleChannel(kind)) throw new HttpError(400, 'NOT_A_PEOPLE_CHANNEL', `kanal "${channelId}" tidak mengirim ke orang / does not deliver to people`);
      const unknown = request.body.areaIds.filter((a) => !areaIds.has(a));
      if (unknown.length > 0) throw new HttpError(400, 'UNKNOWN_AREA', `wilayah tidak dikenal / unknown area: ${unknown.join(', ')}`);
      const now = deps.now();
      const ttl = deps.config.recipients.confirmTtlMinutes;
      let result;
      try {
        result = notify.recipients.requestSubscription({ channelId, channelKind: kind, address, areaIds: request.body.areaIds, language }, now, ttl);
      } catch (err) {
        asHttp(err);
      }
      const { recipient, code } = result;
      const text = renderConfirmation(language, code, deps.config.notify.sender, ttl);
      // A confirmation is not an alert: the payload is a marker; people channels send `recipient.text`.
      const payload = { v: 1, kind: 'confirmation', recipientId: recipient.id } as unknown as NotificationPayload;
      notify.outbox.enqueue(
        {
          dedupeKey: `confirm:${recipient.id}:${now.getTime()}`,
          channelId,
          channelKind: kind,
          payload,
          alertId: `subscription:${recipient.id}`,
          change: 'confirm',
          recipientId: recipient.id,
          recipientRole: 'resident',
          text,
          subject: text.split('.')[0] ?? text,
        },
        now,
      );
      request.log.info({ recipientId: recipient.id, channelId }, 'subscription code queued');
      // The code is only for the person (they confirm it): a pending recipient may receive it.
      return reply.code(202).send({ subscription: present(recipient) });
    },
  );

  app.post(
    '/subscriptions/:id/confirm',
    {
      schema: {
        summary: 'Konfirmasi langganan dengan kode / confirm a subscription with its code',
        tags: ['recipients'],
        params: subscriptionId,
        body: z.strictObject({ code: z.string().regex(/^\d{6}$/, 'six digits') }),
        response: { 200: z.object({ subscription: subscriptionView }), 400: errorResponse, 404: errorResponse, 410: errorResponse, 429: errorResponse },
      },
    },
    async (request) => {
      try {
        const v = notify.recipients.confirm(request.params.id, request.body.code, deps.now());
        request.log.info({ recipientId: v.id }, 'subscription confirmed');
        return { subscription: present(v) };
      } catch (err) {
        asHttp(err);
      }
    },
  );

  app.get(
    '/subscriptions/:id',
    {
      schema: {
        summary: 'Status langganan / subscription status',
        tags: ['recipients'],
        params: subscriptionId,
        response: { 200: z.object({ subscription: subscriptionView }), 404: errorResponse },
      },
    },
    async (request) => {
      const v = notify.recipients.get(request.params.id);
      if (!v || v.kind !== 'resident') throw new HttpError(404, 'UNKNOWN_SUBSCRIPTION', 'langganan tidak dikenal / unknown subscription');
      return { subscription: present(v) };
    },
  );

  app.delete(
    '/subscriptions/:id',
    {
      schema: {
        summary: 'Berhenti berlangganan / leave (the number is deleted)',
        tags: ['recipients'],
        params: subscriptionId,
        response: { 200: z.object({ deleted: z.literal(true) }), 404: errorResponse },
      },
    },
    async (request) => {
      if (!notify.recipients.unsubscribe(request.params.id)) {
        throw new HttpError(404, 'UNKNOWN_SUBSCRIPTION', 'langganan tidak dikenal / unknown subscription');
      }
      request.log.info({ recipientId: request.params.id }, 'subscription deleted');
      return { deleted: true as const };
    },
  );

  app.get(
    '/recipients',
    {
      schema: {
        summary: 'Penerima (alamat disamarkan) / recipients, addresses masked',
        tags: ['recipients'],
        querystring: z.object({
          kind: z.enum(['resident', 'staff']).default('resident'),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
        }),
        response: {
          200: z.object({
            counts: z.object({ residentsActive: z.number(), residentsPending: z.number(), staff: z.number() }),
            recipients: z.array(subscriptionView),
          }),
        },
      },
    },
    async (request) => {
      const { kind, limit, offset } = request.query;
      return { counts: notify.recipients.counts(), recipients: notify.recipients.list(kind, limit, offset).map(present) };
    },
  );
};
