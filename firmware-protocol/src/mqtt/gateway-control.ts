/**
 * Gateway control payloads (SPEC.md §5.8 and §5.9):
 * - config push (server -> gateway, `…/config`, QoS 1, retained): a versioned envelope around the
 *   gateway's configuration; the content is validated by the gateway's own config schema, so this
 *   contract only bounds its shape (an object) and its size (MAX_PAYLOAD_BYTES, checked before parsing);
 * - config status (gateway -> server, `…/config-status`, QoS 1, retained): the applied version and,
 *   when a push was refused, why (`path: message` lines);
 * - local alarm records (gateway -> server, `…/alarms`, QoS 1): level changes the gateway's local
 *   rules made while its uplink was down, acknowledged on `…/ack` with the ack payload (§5.3.3).
 */
import { z } from 'zod';
import { LEVELS } from '../levels.ts';
import { QUANTITIES } from '../quantities.ts';
import { OUTPUT_PATTERNS } from './output-command.ts';
import { PROTOCOL_VERSION } from './payloads.ts';
import { ID_PATTERN } from './topics.ts';

const id = z.string().regex(ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"');
const utcTimestamp = z.iso.datetime({ offset: false, precision: 3 });

/** Most alarm records in one `alarms` message. */
export const MAX_ALARMS_PER_BATCH = 100;
/** Longest config error text a gateway reports (the first problems of a refused push). */
export const MAX_CONFIG_ERROR_CHARS = 4000;

/** `…/config`: the desired configuration. `version` only grows; a gateway refuses an older one. */
export const configPushSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  /** Set by the server, 1, 2, 3 …; the gateway applies a version only above the one it runs. */
  version: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** When the server issued it (UTC); for people and logs. */
  issuedAt: utcTimestamp.optional(),
  /** The configuration; the gateway validates it with its own schema (keys it may take remotely). */
  config: z.record(z.string(), z.unknown()),
});
export type ConfigPush = z.infer<typeof configPushSchema>;

/** `…/config-status`: what the gateway runs, and the last refusal if the newest push was refused. */
export const configStatusSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  gatewayId: id,
  /** Version applied now; 0 while the gateway runs only its local file. */
  appliedVersion: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  ts: utcTimestamp,
  /** The refused version (null when it could not be read from the payload). Absent after a success. */
  refusedVersion: z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  /** Why it was refused: `path: message` lines. Present exactly when `refusedVersion` is. */
  error: z.string().min(1).max(MAX_CONFIG_ERROR_CHARS).optional(),
}).refine((s) => (s.error === undefined) === (s.refusedVersion === undefined), {
  message: 'error and refusedVersion come together',
  path: ['error'],
});
export type ConfigStatus = z.infer<typeof configStatusSchema>;

/** One local alarm: a level change of a local rule, with what the gateway drove. */
export const localAlarmSchema = z.strictObject({
  /** Unique per gateway, assigned durably by it; with `gatewayId` the server's idempotency key. */
  alarmId: z.string().min(1).max(64),
  ruleId: z.string().min(1).max(64),
  hazard: z.enum(['flood', 'landslide', 'sensor-health']),
  kind: z.enum(['escalated', 'deescalated']),
  from: z.enum(LEVELS),
  to: z.enum(LEVELS),
  /** Event time of the change (the reading that decided it), UTC. */
  at: utcTimestamp,
  /** When the gateway judged itself cut off (uplink down longer than its limit), UTC. */
  offlineSince: utcTimestamp.nullable(),
  evidence: z.strictObject({
    sensorId: id,
    quantity: z.enum(QUANTITIES).nullable(),
    value: z.number().refine(Number.isFinite, 'must be finite'),
    unit: z.string().max(16),
    threshold: z.number().refine(Number.isFinite, 'must be finite'),
    description: z.strictObject({ id: z.string().max(200), en: z.string().max(200) }),
  }),
  /** The pattern the gateway drove and the result per output. */
  output: z.strictObject({
    pattern: z.enum(OUTPUT_PATTERNS),
    results: z
      .array(z.strictObject({ outputId: id, ok: z.boolean(), error: z.string().max(200).optional() }))
      .max(16),
  }),
});
export type LocalAlarm = z.infer<typeof localAlarmSchema>;

/** `…/alarms`: local alarm records, acknowledged with an ack (§5.3.3) for `batchId`. */
export const alarmsBatchSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  gatewayId: id,
  /** 1..64 characters; the reference gateway writes `alarms:<firstId>-<lastId>`. */
  batchId: z.string().min(1).max(64),
  sentAt: utcTimestamp,
  alarms: z.array(localAlarmSchema).min(1).max(MAX_ALARMS_PER_BATCH),
});
export type AlarmsBatch = z.infer<typeof alarmsBatchSchema>;
