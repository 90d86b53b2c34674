/**
 * Zod schemas of the HTTP API's requests and responses. They validate requests, serialize
 * responses and generate the OpenAPI document at `/documentation/json`.
 */
import { LEVELS, QUANTITIES } from '@kentongan/firmware-protocol';
import { z } from 'zod';

const utc = z.string().describe('UTC instant, ISO 8601');
const local = z.string().describe('The same instant in WIB (UTC+7), ISO 8601 with +07:00');

export const errorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .describe('Error: stable code and a human message');

export const latestValue = z.object({
  quantity: z.enum(QUANTITIES),
  value: z.number(),
  unit: z.string(),
  ts: utc,
  tsLocal: local,
  quality: z.enum(['good', 'suspect']),
  receivedAt: utc,
  gatewayId: z.string(),
});

export const sequenceSummary = z.object({
  currentEpoch: z.number().int().nullable(),
  received: z.number().int().describe('Distinct sequence numbers received (all epochs)'),
  gaps: z.number().int().describe('Sequence numbers without a stored reading (all epochs); includes numbers used by frames that carry no readings (HEL, unmapped HBT) - the gateway health message has the line-level gap count'),
});

export const sitesResponse = z.object({
  sites: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      areaId: z.string(),
      areaName: z.string().nullable(),
      lat: z.number(),
      lon: z.number(),
      sensors: z.array(
        z.object({ id: z.string(), type: z.string(), latest: z.array(latestValue), sequence: sequenceSummary }),
      ),
    }),
  ),
  /** Sensors that sent readings but are not in config. */
  unregisteredSensors: z.array(z.string()),
});

export const sensorParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be a sensor id') });

/** Most readings one history request may return. */
export const MAX_HISTORY_LIMIT = 10_000;
const instant = z.iso.datetime({ offset: true }).describe('ISO 8601 instant with Z or an offset');

export const historyQuery = z.strictObject({
  quantity: z.enum(QUANTITIES),
  from: instant.optional().describe('Start (inclusive); default: 24 h before `to`'),
  to: instant.optional().describe('End (inclusive); default: now'),
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_LIMIT).default(1000),
});

export const historyResponse = z.object({
  sensorId: z.string(),
  quantity: z.enum(QUANTITIES),
  from: utc,
  to: utc,
  /** True when the window held more than `limit` readings; the newest are returned. */
  truncated: z.boolean(),
  readings: z.array(
    z.object({
      ts: utc,
      tsLocal: local,
      value: z.number(),
      unit: z.string(),
      quality: z.enum(['good', 'suspect']),
      epoch: z.number().int(),
      seq: z.number().int(),
    }),
  ),
});

export const gatewaysResponse = z.object({
  gateways: z.array(
    z.object({
      id: z.string(),
      configured: z.boolean(),
      state: z.enum(['online', 'offline']).describe('online = connected to the broker now'),
      lastStatus: z
        .object({ state: z.enum(['online', 'offline']), ts: utc, software: z.string().nullable(), receivedAt: utc })
        .nullable(),
      lastHealth: z
        .object({
          ts: utc,
          tsLocal: local,
          receivedAt: utc,
          uptimeS: z.number(),
          queueDepth: z.number().int(),
          oldestQueuedAgeS: z.number().nullable(),
          rejectedFrames: z.record(z.string(), z.number().int()),
          sensors: z.array(
            z.object({
              sensorId: z.string(),
              lastSeen: z.string().nullable(),
              batteryV: z.number().nullable(),
              gaps: z.number().int(),
            }),
          ),
        })
        .nullable(),
      lastMessageAt: utc.nullable(),
      lastBatchAt: utc.nullable(),
    }),
  ),
});

export const alertSchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  hazard: z.enum(['flood', 'landslide']),
  areaId: z.string(),
  siteId: z.string(),
  sensorId: z.string(),
  level: z.enum(LEVELS),
  maxLevel: z.enum(LEVELS),
  state: z.enum(['open', 'acknowledged', 'resolved']),
  evidence: z.object({ value: z.number(), unit: z.string(), ts: z.string(), threshold: z.number() }),
  openedAt: utc,
  openedAtLocal: local,
  updatedAt: utc,
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  note: z.string().nullable(),
});

export const alertsQuery = z.strictObject({
  state: z.enum(['active', 'open', 'acknowledged', 'resolved']).optional().describe('active = open or acknowledged'),
  areaId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be an area id').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const alertParams = z.object({ id: z.string().min(1).max(64) });

export const alertActionBody = z.strictObject({
  by: z.string().trim().min(1).max(64).describe('Nama petugas / operator name'),
  note: z.string().max(1000).nullable().optional().describe('Catatan (boleh kosong) / optional note'),
});

export const areasResponse = z.object({
  areas: z.array(
    z.object({ id: z.string(), name: z.string(), level: z.enum(LEVELS), activeAlerts: z.number().int() }),
  ),
});

export const healthResponse = z.object({
  status: z.enum(['ok', 'degraded']),
  time: utc,
  timeLocal: local,
  startedAt: utc,
  uptimeS: z.number(),
  broker: z.object({ clients: z.number().int(), gatewaysOnline: z.number().int(), gatewaysConfigured: z.number().int() }),
  db: z.object({ ok: z.boolean(), readings: z.number().int().nullable() }),
});

export const metricsQuery = z.strictObject({ format: z.enum(['prometheus', 'json']).default('prometheus') });
