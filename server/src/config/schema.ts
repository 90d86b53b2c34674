/**
 * The server's one config schema. Types come from `z.infer`; defaults live here.
 * Parsed once in main.ts (or by the caller of `startServer`) and passed down.
 */
import { z } from 'zod';
import { ID_PATTERN, LEVELS, QUANTITIES } from '@kentongan/firmware-protocol';

const id = z.string().regex(ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"');
/** `scrypt$N$r$p$saltB64$hashB64`, see server/src/broker/passwords.ts. */
export const PASSWORD_HASH_PATTERN = /^scrypt\$\d{1,8}\$\d{1,3}\$\d{1,3}\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;

/** One level of a threshold rule: raise at or above `raise`, clear only below `clear` (hysteresis). */
const thresholdLevelSchema = z
  .strictObject({ raise: z.number().finite(), clear: z.number().finite() })
  .refine((l) => l.clear <= l.raise, { message: 'clear must be <= raise (hysteresis below the threshold)' });

export const thresholdRuleSchema = z
  .strictObject({
    id,
    kind: z.literal('threshold'),
    /** What the alert is about, for messages and CAP: flood or landslide. */
    hazard: z.enum(['flood', 'landslide']),
    sensorId: id,
    quantity: z.enum(QUANTITIES),
    /** At least one of Waspada/Siaga/Awas, each with raise > the lower level's raise. */
    levels: z.strictObject({
      Waspada: thresholdLevelSchema.optional(),
      Siaga: thresholdLevelSchema.optional(),
      Awas: thresholdLevelSchema.optional(),
    }),
    /** Consecutive readings at or above a level before escalating to it (against single spikes). */
    confirmReadings: z.int().min(1).max(100).default(2),
    /** Consecutive readings below `clear` before dropping one level (de-escalation is slow). */
    clearReadings: z.int().min(1).max(1000).default(3),
  })
  .refine((r) => Object.keys(r.levels).length > 0, { message: 'needs at least one level', path: ['levels'] });
export type ThresholdRule = z.infer<typeof thresholdRuleSchema>;

export const ruleSchema = thresholdRuleSchema;
export type Rule = z.infer<typeof ruleSchema>;

export const channelSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('console'), id: id.default('console') }),
  z.strictObject({
    kind: z.literal('webhook'),
    id: id.default('webhook'),
    url: z.url(),
    /** HMAC-SHA256 key for the `X-Kentongan-Signature` header; optional. */
    secret: z.string().min(16).optional(),
    timeoutMs: z.int().min(100).max(60_000).default(5000),
    maxAttempts: z.int().min(1).max(50).default(8),
  }),
]);
export type ChannelConfig = z.infer<typeof channelSchema>;

export const serverConfigSchema = z.strictObject({
  /** Folder for the SQLite database (created if missing). */
  dataDir: z.string().min(1).default('./data/server'),
  http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.int().min(0).max(65535).default(8080) }).prefault({}),
  mqtt: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.int().min(0).max(65535).default(1883) }).prefault({}),
  /** Gateways allowed to connect; password hashes come from `kentongan-server hash-password`. */
  gateways: z
    .array(
      z.strictObject({
        id,
        // Format written by `hash-password` (server/src/broker/passwords.ts): scrypt$N$r$p$saltB64$hashB64.
        passwordHash: z
          .string()
          .startsWith('scrypt$')
          .regex(PASSWORD_HASH_PATTERN, 'must be scrypt$N$r$p$salt$hash as printed by `hash-password`'),
      }),
    )
    .default([]),
  areas: z.array(z.strictObject({ id, name: z.string().min(1).max(100) })).default([]),
  sites: z
    .array(
      z.strictObject({
        id,
        name: z.string().min(1).max(100),
        areaId: id,
        lat: z.number().min(-90).max(90),
        lon: z.number().min(-180).max(180),
      }),
    )
    .default([]),
  sensors: z
    .array(
      z.strictObject({
        id,
        siteId: id,
        type: z.string().max(32),
        /**
         * The one gateway allowed to send this sensor's readings. Set it: without it any
         * authenticated gateway could write (or pre-empt the keys of) this sensor's readings.
         */
        gatewayId: id.optional(),
      }),
    )
    .default([]),
  rules: z.array(ruleSchema).default([]),
  notify: z
    .strictObject({
      channels: z.array(channelSchema).default([{ kind: 'console', id: 'console' }]),
      /** Who signs resident messages, e.g. "BPBD Sumedang". */
      sender: z.string().min(1).max(40).default('BPBD Sumedang'),
    })
    .prefault({}),
});
export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ServerConfigInput = z.input<typeof serverConfigSchema>;
export { LEVELS };
