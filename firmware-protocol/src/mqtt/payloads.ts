/**
 * MQTT payload schemas (SPEC.md §5). Versioned JSON (`v: 1`), validated with zod on both sides.
 * Limits are part of the contract so that a hostile payload cannot make either side allocate
 * without bound.
 */
import { z } from 'zod';
import { LEVELS } from '../levels.ts';
import { QUANTITIES, QUANTITY_UNITS } from '../quantities.ts';
import { ID_PATTERN } from './topics.ts';

export const PROTOCOL_VERSION = 1;
/** Most readings in one batch message. */
export const MAX_BATCH_READINGS = 1000;
/** Largest MQTT payload either side accepts, bytes. */
export const MAX_PAYLOAD_BYTES = 512 * 1024;

const id = z.string().regex(ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"');
/** UTC instant, ISO 8601 with `Z` and milliseconds, as `Date.prototype.toISOString` writes it. */
const utcTimestamp = z.iso.datetime({ offset: false, precision: 3 });

export const readingSchema = z
  .strictObject({
    sensorId: id,
    /**
     * Gateway-assigned, durable counter of the sensor's boots/sequence restarts. Together with
     * `seq` it is the idempotency key: a reboot raises `epoch`, so new data never looks old.
     */
    epoch: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** Sensor sequence number, unwrapped by the gateway so it only grows within an epoch. */
    seq: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
    quantity: z.enum(QUANTITIES),
    value: z.number().finite(),
    unit: z.string(),
    ts: utcTimestamp,
    /** `suspect`: outside the physical range configured for the sensor; stored, but flagged. */
    quality: z.enum(['good', 'suspect']).default('good'),
  })
  .refine((r) => QUANTITY_UNITS[r.quantity] === r.unit, {
    message: 'unit does not match quantity',
    path: ['unit'],
  });
export type Reading = z.infer<typeof readingSchema>;
export type ReadingInput = z.input<typeof readingSchema>;

export const readingsBatchSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  gatewayId: id,
  /** Unique per gateway; echoed in the ack. */
  batchId: z.string().min(1).max(64),
  sentAt: utcTimestamp,
  readings: z.array(z.unknown()).min(1).max(MAX_BATCH_READINGS),
});
/** A batch whose envelope is valid; each reading is validated on its own so one bad reading
 * does not cost the good ones around it. */
export type ReadingsBatchEnvelope = z.infer<typeof readingsBatchSchema>;
export type ReadingsBatch = Omit<ReadingsBatchEnvelope, 'readings'> & { readings: ReadingInput[] };

export const ackSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  batchId: z.string().min(1).max(64),
  /** Newly stored readings. */
  stored: z.int().min(0),
  /** Readings the store already had (a redelivery); they count as stored. */
  duplicates: z.int().min(0),
  /** Readings refused for good (invalid); the gateway drops them too and counts them. */
  rejected: z.array(z.strictObject({ index: z.int().min(0), reason: z.string().max(200) })).max(MAX_BATCH_READINGS),
  /** Optional: the server's clock when it sent the ack, so a gateway can notice its own clock is wrong. */
  serverTime: utcTimestamp.optional(),
});
export type Ack = z.infer<typeof ackSchema>;

export const statusSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  gatewayId: id,
  state: z.enum(['online', 'offline']),
  /** When this status was composed (for the will: when the connection that set it was opened). */
  ts: utcTimestamp,
  software: z.string().max(64).optional(),
});
export type GatewayStatus = z.infer<typeof statusSchema>;

export const healthSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  gatewayId: id,
  ts: utcTimestamp,
  uptimeS: z.number().min(0),
  queueDepth: z.int().min(0),
  oldestQueuedAgeS: z.number().min(0).nullable(),
  /** Serial frames refused since start, by reason code. */
  rejectedFrames: z.record(z.string(), z.int().min(0)),
  sensors: z
    .array(
      z.strictObject({
        sensorId: id,
        lastSeen: utcTimestamp.nullable(),
        batteryV: z.number().finite().nullable(),
        gaps: z.int().min(0),
      }),
    )
    .max(256),
  /** Optional: readings the queue bound deleted unsent since the gateway's database was created. */
  droppedReadings: z.int().min(0).optional(),
  /** Optional: backlog still to replay (readings, an upper bound). */
  replayBacklog: z.int().min(0).optional(),
  /** Optional: MQTT reconnects since the gateway process started. */
  reconnects: z.int().min(0).optional(),
  /**
   * Optional: the gateway's view of its own clock. `offsetS` = server clock minus gateway clock
   * (null until an ack carried `serverTime`); `ok` false when |offsetS| is above the gateway's
   * limit or the clock is before a sane date; `clampedReadings` counts reading timestamps held
   * back because the clock went back (SPEC §5.7).
   */
  clock: z
    .strictObject({
      offsetS: z.number().finite().nullable(),
      ok: z.boolean(),
      clampedReadings: z.int().min(0),
    })
    .optional(),
  /** Optional: uplink quality where the gateway knows it (from its modem). */
  link: z
    .strictObject({
      rssiDbm: z.number().min(-200).max(0).optional(),
      quality: z.number().min(0).max(100).optional(),
      technology: z.string().max(16).optional(),
    })
    .optional(),
});
export type GatewayHealth = z.infer<typeof healthSchema>;

export const areaAlertSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  areaId: id,
  level: z.enum(LEVELS),
  ts: utcTimestamp,
  /** The alert that set this level; null at Normal. */
  alertId: z.string().max(64).nullable(),
  hazard: z.string().max(32).nullable(),
});
export type AreaAlert = z.infer<typeof areaAlertSchema>;

/** Result of parsing a payload: never throws on bad input. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Parses a raw MQTT payload with a schema. Bad JSON, oversize payloads and schema
 * violations come back as `{ ok: false, error }` with `path: message` lines.
 */
export function parsePayload<S extends z.ZodType>(schema: S, payload: Buffer | string): ParseResult<z.infer<S>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_PAYLOAD_BYTES) return { ok: false, error: `payload too large: ${size} > ${MAX_PAYLOAD_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  const result = schema.safeParse(json);
  if (!result.success) return { ok: false, error: formatZodError(result.error) };
  return { ok: true, value: result.data };
}

/** `path: message` lines, one per issue, as config and payload errors are reported everywhere. */
export function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
}
