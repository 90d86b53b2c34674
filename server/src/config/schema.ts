/**
 * The server's one config schema. Types come from `z.infer`; defaults live here.
 * Parsed once in main.ts (or by the caller of `startServer`) and passed down.
 */
import { z } from 'zod';
import { ID_PATTERN, LEVELS, QUANTITIES, ruleSchema as sharedRuleSchema } from '@kentongan/firmware-protocol';

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

/**
 * Issue 4: every rule kind, the schema shared with the gateway and the backtest
 * (firmware-protocol/src/rules/schema.ts). Its `threshold` kind accepts every session-1 threshold
 * rule unchanged; `thresholdRuleSchema` above stays for the server's reference evaluator.
 */
export const ruleSchema = sharedRuleSchema;
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
  // Issue 5 channels (server/src/notify/channels/, README "Notification channels").
  z.strictObject({
    kind: z.literal('gsm-modem'),
    id: id.default('gsm-modem'),
    /** Serial device of the modem, e.g. `/dev/ttyUSB2` or `/dev/serial0` (SIM800L on a Pi UART). */
    path: z.string().min(1).max(200),
    baudRate: z.int().min(300).max(921_600).default(9600),
    /** SIM PIN; only sent when the SIM asks for it (`+CPIN: SIM PIN`). */
    pin: z.string().regex(/^\d{4,8}$/).optional(),
    /** Per AT command; `AT+CMGS` waits `sendTimeoutMs` (network round trip). */
    commandTimeoutMs: z.int().min(100).max(60_000).default(5000),
    sendTimeoutMs: z.int().min(1000).max(300_000).default(60_000),
    /** Ask for delivery reports (`+CDS`) and count them. */
    deliveryReports: z.boolean().default(true),
    /** Longest text in parts (each 153 GSM-7 or 67 UCS-2 characters); longer text is cut. */
    maxParts: z.int().min(1).max(10).default(4),
    maxAttempts: z.int().min(1).max(50).default(5),
  }),
  z.strictObject({
    kind: z.literal('http-gateway'),
    id: id.default('http-gateway'),
    /** Provider endpoint; `{to}`, `{text}`, `{id}` are filled in (URL-encoded) for GET-style APIs. */
    url: z
      .string()
      .min(1)
      .max(2000)
      .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u.replace(/\{(to|text|id|subject)\}/g, 'x')), 'must be an http(s) URL'),
    method: z.enum(['POST', 'PUT', 'GET']).default('POST'),
    /** Extra headers, e.g. `{ "Authorization": "Bearer …" }` (values may use the placeholders). */
    headers: z.record(z.string().min(1).max(100), z.string().max(2000)).default({}),
    /** `json`: placeholders are JSON-string-escaped; `form`: URL-encoded (`application/x-www-form-urlencoded`). */
    bodyFormat: z.enum(['json', 'form']).default('json'),
    /** Body with `{to}`, `{text}`, `{id}`, `{subject}`; for json write them inside quotes: `{"to":"{to}"}`. */
    bodyTemplate: z.string().max(10_000).default('{"to":"{to}","text":"{text}","id":"{id}"}'),
    /** HTTP statuses that mean delivered (inclusive ranges). */
    successStatus: z.array(z.tuple([z.int().min(100).max(599), z.int().min(100).max(599)])).min(1).max(10).default([[200, 299]]),
    /** Optional check of the answer body: a dotted JSON path must equal `equals` (string compare). */
    successJsonPath: z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+){0,9}$/).optional(),
    successEquals: z.string().max(200).optional(),
    /** Optional regular expression the answer body must match to count as delivered. */
    successRegex: z
      .string()
      .max(500)
      .refine((r) => {
        try {
          new RegExp(r);
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional(),
    timeoutMs: z.int().min(100).max(60_000).default(5000),
    /** Open connections kept alive to the provider. */
    maxSockets: z.int().min(1).max(1024).default(64),
    maxAttempts: z.int().min(1).max(50).default(8),
  }),
  z.strictObject({
    kind: z.literal('smtp'),
    id: id.default('smtp'),
    host: z.string().min(1).max(253),
    port: z.int().min(1).max(65535).default(587),
    /** Implicit TLS (port 465); otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send without STARTTLS (set true for servers outside the local network). */
    requireTls: z.boolean().default(false),
    auth: z.strictObject({ user: z.string().min(1).max(200), pass: z.string().min(1).max(200) }).optional(),
    /** `From:` header, e.g. `"BPBD Sumedang" <ews@bpbd-sumedang.go.id>`. */
    from: z.string().min(3).max(300),
    timeoutMs: z.int().min(100).max(120_000).default(15_000),
    maxAttempts: z.int().min(1).max(50).default(6),
  }),
  z.strictObject({
    kind: z.literal('siren'),
    id: id.default('siren'),
    /** Gateways whose outputs sound for an area; areas without an entry use the gateways of their sites' sensors. */
    targets: z
      .array(z.strictObject({ areaId: id, gatewayId: id, outputId: id.optional() }))
      .max(1000)
      .default([]),
    /** How long each level's pattern runs, s (0 with off); the gateway stops on its own after it. */
    durationS: z.int().min(1).max(3600).default(600),
    maxAttempts: z.int().min(1).max(50).default(5),
  }),
]);
export type ChannelConfig = z.infer<typeof channelSchema>;

/** A CAP polygon: at least 3 [lat, lon] points (the closing point is added when missing). */
const capPolygonSchema = z
  .array(z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]))
  .min(3)
  .max(500);

/** Token bucket: `burst` sends at once, then `perSecond` on average. */
const bucketSchema = z.strictObject({ burst: z.int().min(1).max(100_000), perSecond: z.number().positive().max(100_000) });

/** Issue 5: delivery pacing. Defaults and their reasons: server/README.md "Notifications". */
const deliverySchema = z
  .strictObject({
    /** Each person: 5 messages at once, then one per 20 s (a burst covers Waspada -> Siaga -> Awas). */
    perRecipient: bucketSchema.default({ burst: 5, perSecond: 0.05 }),
    /** Channels without an entry in `channels`. */
    defaultChannel: z
      .strictObject({ concurrency: z.int().min(1).max(1024).default(16), rate: bucketSchema.default({ burst: 200, perSecond: 100 }) })
      .prefault({}),
    /** Per channel id, e.g. a GSM modem `{ concurrency: 1, rate: { burst: 1, perSecond: 0.2 } }`. */
    channels: z
      .record(id, z.strictObject({ concurrency: z.int().min(1).max(1024).default(16), rate: bucketSchema.default({ burst: 200, perSecond: 100 }) }))
      .default({}),
  })
  .prefault({});

const staffSchema = z.strictObject({
  /** Config id; the recipient id becomes `s-<id>`. */
  id,
  role: z.enum(['operator', 'responder', 'village_head', 'technician']),
  /** Name for the operators' own lists; never used in messages. */
  name: z.string().max(100).optional(),
  /** A configured notify channel id (SMS, e-mail...). */
  channelId: id,
  /** Phone (normalised to +62) or e-mail, by the channel's kind. */
  address: z.string().min(3).max(254),
  language: z.enum(['id', 'en', 'su']).default('id'),
  /** Areas this person covers; empty = all areas. */
  areaIds: z.array(id).max(200).default([]),
  /** On-call order: 1 hears every alert; n also hears the (n-1)-th "not acknowledged" reminder. */
  escalationOrder: z.int().min(1).max(10).default(1),
});

const recipientsConfigSchema = z
  .strictObject({
    staff: z.array(staffSchema).max(1000).default([]),
    /** How long a subscription confirmation code is valid. */
    confirmTtlMinutes: z.int().min(1).max(1440).default(30),
  })
  .prefault({});

const capConfigSchema = z
  .strictObject({
    /** CAP `<sender>`: no spaces, commas or `<&` (CAP 1.2 3.2.1); an e-mail-like id is usual. */
    senderId: z
      .string()
      .regex(/^[^\s,<&]{1,120}$/, 'no spaces, commas, "<" or "&" (CAP 1.2)')
      .default('kentongan@bpbd-sumedang.invalid'),
    /** Absolute base URL for feed links, e.g. `https://ews.example.go.id`; default: the request's host. */
    publicBaseUrl: z.url().optional(),
    /** CAP `<contact>`, e.g. the Pusdalops phone. */
    contact: z.string().max(200).optional(),
    /** Default circle radius around a site without polygon/radiusKm. */
    defaultRadiusKm: z.number().positive().max(500).default(1),
  })
  .prefault({});

/** Issue 4: alert lifecycle timing; each default and its reason in server/src/alerts/README.md. */
const alertsConfigSchema = z
  .strictObject({
    /** An open Siaga/Awas alert not acknowledged after this long reaches further staff (0 = never). */
    escalateUnacknowledgedAfterMs: z.int().min(0).max(86_400_000).default(15 * 60_000),
    /**
     * How far behind a sensor's newest reading a reading may arrive and still be evaluated. Above 0
     * the detector holds readings this long to re-order them, which delays every alert as much:
     * 0 (evaluate at once; a batch is always sorted) suits an early-warning system.
     */
    allowedLatenessMs: z.int().min(0).max(3_600_000).default(0),
    /** A level change from data delayed more than this says "detected late, data delayed N minutes". */
    lateNoticeAfterMs: z.int().min(0).max(7 * 86_400_000).default(5 * 60_000),
    /** How often event time advances without readings (deadman, hold times, reminders, silence expiry). */
    tickIntervalMs: z.int().min(100).max(600_000).default(15_000),
  })
  .prefault({});

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
  areas: z
    .array(
      z.strictObject({
        id,
        name: z.string().min(1).max(100),
        // Optional (issue 5, recipients/CAP): administrative kind and parent, so residents who
        // subscribe to a kecamatan hear the alerts of its desa; CAP <area> geometry.
        kind: z.enum(['desa', 'kecamatan', 'kabupaten']).optional(),
        parentId: id.optional(),
        polygon: capPolygonSchema.optional(),
      }),
    )
    .default([]),
  sites: z
    .array(
      z.strictObject({
        id,
        name: z.string().min(1).max(100),
        areaId: id,
        lat: z.number().min(-90).max(90),
        lon: z.number().min(-180).max(180),
        /** CAP `<circle>` radius around the site, km (issue 5); default in cap/ (1 km). */
        radiusKm: z.number().positive().max(500).optional(),
        /** CAP `<polygon>` of the area at risk, [lat, lon] points (closed automatically). */
        polygon: capPolygonSchema.optional(),
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
      /** Fan-out pacing per channel and per recipient (server/src/notify/rate-limit.ts). */
      delivery: deliverySchema,
    })
    .prefault({}),
  /** Operators, responders, village heads and technicians (residents subscribe through the API). */
  recipients: recipientsConfigSchema,
  /** CAP 1.2 output and the Atom feed. */
  cap: capConfigSchema,
  /** Issue 4: alert lifecycle timing (server/src/alerts/README.md). */
  alerts: alertsConfigSchema,
});
export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ServerConfigInput = z.input<typeof serverConfigSchema>;
export { LEVELS };
