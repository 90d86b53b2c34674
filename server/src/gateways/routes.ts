/**
 * HTTP routes of the gateways' control plane (under `/api/v1`):
 * - `PUT /gateways/:id/config` `{ config }`: the next desired config of a configured gateway;
 *   stored with a new version and pushed retained over MQTT; answers desired vs applied;
 * - `GET /gateways/:id/config`: desired version (and config), the version the gateway reports it
 *   runs, and its refusal (`refusedVersion`, `error` as `path: message` lines) if any;
 * - `GET /gateways/:id/alarms`, `GET /edge-alarms`: what gateways did on their own while cut off,
 *   newest first, with the event time in UTC and WIB and a bilingual summary.
 */
import { ID_PATTERN, MAX_OUTPUT_DURATION_S, MAX_PAYLOAD_BYTES, LEVELS, OUTPUT_PATTERNS, type LocalAlarm } from '@kentongan/firmware-protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../routes/error-handler.ts';
import { errorResponse } from '../routes/schemas.ts';
import { toWib, toWibOrNull } from '../routes/time.ts';
import type { EdgeAlarmRow } from './control-store.ts';
import type { GatewayControlService } from './gateway-control.ts';

export interface GatewayControlRouteOptions {
  service: GatewayControlService;
  /** Ids of the configured gateways; others get 404. */
  gateways: ReadonlySet<string>;
}

const params = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be a gateway id') });
const configBody = z.strictObject({ config: z.record(z.string(), z.unknown()) });
const configResponse = z.object({
  gatewayId: z.string(),
  desired: z.object({ version: z.int(), issuedAt: z.string(), issuedAtLocal: z.string(), config: z.record(z.string(), z.unknown()) }).nullable(),
  applied: z
    .object({
      version: z.int(),
      ts: z.string(),
      tsLocal: z.string(),
      receivedAt: z.string(),
      refusedVersion: z.int().nullable(),
      error: z.string().nullable(),
    })
    .nullable(),
  /** True when the gateway reports the desired version applied. */
  inSync: z.boolean(),
});
const alarmsQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const edgeAlarm = z.object({
  gatewayId: z.string(),
  alarmId: z.string(),
  ruleId: z.string(),
  hazard: z.string(),
  kind: z.string(),
  from: z.enum(LEVELS),
  to: z.enum(LEVELS),
  at: z.string(),
  atLocal: z.string(),
  offlineSince: z.string().nullable(),
  offlineSinceLocal: z.string().nullable(),
  receivedAt: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  output: z.record(z.string(), z.unknown()),
  summary: z.object({ id: z.string(), en: z.string() }),
});
const alarmsResponse = z.object({ alarms: z.array(edgeAlarm) });
const outputBody = z.strictObject({
  pattern: z.enum(OUTPUT_PATTERNS),
  durationS: z.int().min(0).max(MAX_OUTPUT_DURATION_S),
  outputId: z.string().regex(ID_PATTERN).optional(),
  reason: z.string().max(200),
});
const outputResponse = z.object({ commandId: z.string(), issuedAt: z.string(), issuedAtLocal: z.string(), pattern: z.enum(OUTPUT_PATTERNS), durationS: z.int() });

export const gatewayControlRoutes: FastifyPluginAsyncZod<GatewayControlRouteOptions> = async (app, { service, gateways }) => {
  const known = (id: string) => {
    if (!gateways.has(id)) throw new HttpError(404, 'GATEWAY_NOT_FOUND', `gateway tidak dikenal "${id}" / unknown gateway "${id}"`);
  };
  const view = (id: string) => {
    const desired = service.store.getDesired(id);
    const status = service.store.getStatus(id);
    return {
      gatewayId: id,
      desired: desired ? { version: desired.version, issuedAt: desired.issuedAt, issuedAtLocal: toWib(desired.issuedAt), config: desired.config } : null,
      applied: status
        ? { version: status.appliedVersion, ts: status.ts, tsLocal: toWib(status.ts), receivedAt: status.receivedAt, refusedVersion: status.refusedVersion, error: status.error }
        : null,
      inSync: desired !== null && status !== null && status.appliedVersion === desired.version,
    };
  };

  app.put(
    '/gateways/:id/config',
    {
      bodyLimit: MAX_PAYLOAD_BYTES,
      schema: {
        summary: 'Kirim konfigurasi ke gateway / push a config to a gateway',
        tags: ['gateways'],
        params,
        body: configBody,
        response: { 200: configResponse, 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      known(req.params.id);
      // The envelope adds ~100 bytes; the MQTT payload limit is the contract's.
      if (Buffer.byteLength(JSON.stringify(req.body.config)) > MAX_PAYLOAD_BYTES - 1024) {
        throw new HttpError(400, 'CONFIG_TOO_LARGE', `konfigurasi terlalu besar / config larger than ${MAX_PAYLOAD_BYTES - 1024} bytes`);
      }
      await service.pushConfig(req.params.id, req.body.config);
      return view(req.params.id);
    },
  );

  app.get(
    '/gateways/:id/config',
    { schema: { summary: 'Konfigurasi diinginkan vs diterapkan / desired vs applied config', tags: ['gateways'], params, response: { 200: configResponse, 404: errorResponse } } },
    async (req) => {
      known(req.params.id);
      return view(req.params.id);
    },
  );

  app.post(
    '/gateways/:id/output',
    {
      schema: {
        summary: 'Perintah sirene/lampu ke gateway / drive a gateway output (test, silence)',
        tags: ['gateways'],
        params,
        body: outputBody,
        response: { 200: outputResponse, 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      known(req.params.id);
      const { outputId, ...rest } = req.body;
      const cmd = await service.sendOutput(req.params.id, { ...rest, ...(outputId ? { outputId } : {}) });
      return { commandId: cmd.commandId, issuedAt: cmd.issuedAt, issuedAtLocal: toWib(cmd.issuedAt), pattern: cmd.pattern, durationS: cmd.durationS };
    },
  );

  app.get(
    '/gateways/:id/alarms',
    {
      schema: {
        summary: 'Alarm lokal gateway saat terputus / local alarms of a gateway while cut off',
        tags: ['gateways'],
        params,
        querystring: alarmsQuery,
        response: { 200: alarmsResponse, 404: errorResponse },
      },
    },
    async (req) => {
      known(req.params.id);
      return { alarms: list(service, { gatewayId: req.params.id, ...req.query }) };
    },
  );

  app.get(
    '/edge-alarms',
    {
      schema: {
        summary: 'Semua alarm lokal gateway / local alarms of every gateway (alert history at the edge)',
        tags: ['alerts'],
        querystring: alarmsQuery.extend({ gatewayId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional() }),
        response: { 200: alarmsResponse },
      },
    },
    async (req) => ({ alarms: list(service, req.query) }),
  );
};

function list(service: GatewayControlService, q: { gatewayId?: string | undefined; from?: string | undefined; to?: string | undefined; limit: number }) {
  const iso = (s: string | undefined) => (s === undefined ? undefined : new Date(s).toISOString());
  return service.store
    .listAlarms({ limit: q.limit, ...(q.gatewayId ? { gatewayId: q.gatewayId } : {}), ...(q.from ? { from: iso(q.from)! } : {}), ...(q.to ? { to: iso(q.to)! } : {}) })
    .map(present);
}

function present(row: EdgeAlarmRow) {
  const a: LocalAlarm = row.alarm;
  return {
    gatewayId: row.gatewayId,
    alarmId: a.alarmId,
    ruleId: a.ruleId,
    hazard: a.hazard,
    kind: a.kind,
    from: a.from,
    to: a.to,
    at: a.at,
    atLocal: toWib(a.at),
    offlineSince: a.offlineSince,
    offlineSinceLocal: toWibOrNull(a.offlineSince),
    receivedAt: row.receivedAt,
    evidence: a.evidence,
    output: a.output,
    summary: summary(row.gatewayId, a),
  };
}

/** One line for people, Bahasa Indonesia first, times in WIB. */
function summary(gatewayId: string, a: LocalAlarm): { id: string; en: string } {
  const wib = `${toWib(a.at).slice(0, 16).replace('T', ' ')} WIB`;
  const e = a.evidence;
  const up = a.kind === 'escalated';
  return {
    id: `${wib}: gateway ${gatewayId} (terputus dari server) ${up ? 'menaikkan' : 'menurunkan'} ${a.ruleId} dari ${a.from} ke ${a.to}; ${e.description.id}; sirene: ${a.output.pattern}`,
    en: `${wib}: gateway ${gatewayId} (cut off from the server) ${up ? 'raised' : 'lowered'} ${a.ruleId} from ${a.from} to ${a.to}; ${e.description.en}; siren: ${a.output.pattern}`,
  };
}
