/**
 * The gateway's configuration: one strict zod schema, defaults in the schema, types by inference.
 * Every field is described in gateway/README.md ("Configuration").
 */
import { z } from 'zod';
import {
  CHANNEL_NAME_PATTERN,
  ID_PATTERN,
  MAX_BATCH_READINGS,
  QUANTITIES,
  SENSOR_ID_PATTERN,
} from '@kentongan/firmware-protocol';
import { modbusSchema } from '../drivers/modbus/schema.ts';
import { localRulesSchema, offlineAfterMsSchema } from '../local-warning/schema.ts';
import { outputsSchema } from '../outputs/schema.ts';

/** Queue bound when the config does not set one: about 5 days of 10 sensors x 4 channels at 1 reading/s. */
export const DEFAULT_MAX_QUEUED_READINGS = 5_000_000;
/** The health payload lists at most 256 sensors (healthSchema), so one gateway serves at most that many. */
export const MAX_SENSORS = 256;

const rangeSchema = z
  .strictObject({ min: z.number(), max: z.number() })
  .refine((r) => r.min < r.max, { message: 'min must be below max', path: ['max'] });

const tippingBucketSchema = z.strictObject({
  /** Rain depth one tip of the bucket stands for, mm (0.2 is typical; 0.1, 0.2794 and 0.28 exist). */
  mmPerTip: z.number().positive().max(100),
  /** Bounce filter: tips closer than this are contact bounce (HOBO rule: 1 s). Default 1000. */
  minTipIntervalMs: z.int().min(0).max(60_000).optional(),
  /** Above this intensity the reading is flagged suspect. Default 300 mm/h (src/sensors/rain.ts). */
  maxIntensityMmPerH: z.number().positive().optional(),
});

export const channelSchema = z
  .strictObject({
    quantity: z.enum(QUANTITIES),
    scale: z.number().refine((v) => v !== 0, 'scale must not be 0').default(1),
    offset: z.number().default(0),
    /** Physical range after calibration; a value outside is kept but flagged `suspect`. */
    range: rangeSchema.optional(),
    /** The channel is a cumulative tip counter; the gateway publishes mm fallen since the previous reading. */
    tippingBucket: tippingBucketSchema.optional(),
    /** The raw value (after scale/offset, in `unit`) is the distance from the sensor down to the water. */
    distanceToWater: z
      .strictObject({ sensorAboveDatumCm: z.number().min(-100_000).max(100_000), unit: z.enum(['mm', 'cm', 'm']).default('mm') })
      .optional(),
  })
  .superRefine((ch, ctx) => {
    if (ch.distanceToWater && ch.quantity !== 'water_level') {
      ctx.addIssue({ code: 'custom', path: ['distanceToWater'], message: 'distance to water gives a water level: set quantity "water_level"' });
    }
    if (!ch.tippingBucket) return;
    if (ch.quantity !== 'rain') {
      ctx.addIssue({ code: 'custom', path: ['tippingBucket'], message: 'a tipping bucket measures rain: set quantity "rain"' });
    }
    if (ch.scale !== 1 || ch.offset !== 0) {
      ctx.addIssue({ code: 'custom', path: ['tippingBucket'], message: 'scale/offset do not apply to a tipping bucket: set mmPerTip only' });
    }
  });

export const portSchema = z.strictObject({
  path: z.string().min(1).max(256),
  baudRate: z.int().min(50).max(4_000_000).default(9600),
  dataBits: z.literal([5, 6, 7, 8]).default(8),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
  stopBits: z.literal([1, 1.5, 2]).default(1),
});

export const sensorSchema = z.strictObject({
  id: z.string().regex(SENSOR_ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"'),
  /** Path of the declared port the sensor talks on. */
  port: z.string().min(1),
  channels: z
    .record(z.string(), channelSchema)
    .refine((c) => Object.keys(c).length > 0, 'at least one channel must be mapped')
    .superRefine((channels, ctx) => {
      for (const name of Object.keys(channels)) {
        if (!CHANNEL_NAME_PATTERN.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'channel names are lower-case letters, digits and "_", a letter first, max 16' });
        }
      }
      // The server's idempotency key is sensorId+epoch+seq+quantity: two channels of one sensor
      // with the same quantity would collide and one would be dropped as a duplicate.
      const seen = new Map<string, string>();
      for (const [name, ch] of Object.entries(channels)) {
        const other = seen.get(ch.quantity);
        if (other) ctx.addIssue({ code: 'custom', path: [name, 'quantity'], message: `quantity "${ch.quantity}" is already mapped from channel "${other}"` });
        else seen.set(ch.quantity, name);
      }
    }),
});

export const mqttSchema = z.strictObject({
  url: z.url({
    protocol: /^(mqtts?|wss?)$/,
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
  }),
  /** Defaults to the gateway id. */
  username: z.string().min(1).max(128).optional(),
  /**
   * Optional here because the environment variable KENTONGAN_MQTT_PASSWORD overrides it when set;
   * parseGatewayConfig refuses a config where neither gives one.
   */
  password: z.string().max(256).optional(),
  batchMaxReadings: z.int().min(1).max(MAX_BATCH_READINGS).default(500),
  batchIntervalMs: z.int().min(10).max(60_000).default(500),
  ackTimeoutMs: z.int().min(100).max(600_000).default(10_000),
  reconnectPeriodMs: z.int().min(100).max(300_000).default(1000),
  /** Batches published and not yet acknowledged at one time: paces replay after an outage. */
  maxInFlightBatches: z.int().min(1).max(64).default(4),
  keepaliveS: z.int().min(5).max(3600).default(60),
  /**
   * Cap of the reconnect back-off: delays grow from reconnectPeriodMs doubling up to this, each
   * drawn with full jitter (transport/backoff.ts), so a district's gateways do not reconnect at once.
   */
  reconnectMaxMs: z.int().min(100).max(3_600_000).default(60_000),
});

/** Replay after an outage (publish/batch-sender.ts; README "Replay and live readings"). */
const replaySchema = z.strictObject({
  /** Most backlog batches started per second (resends and live batches are not limited). */
  maxBatchesPerS: z.number().positive().max(10_000).default(100),
  /** A live lane this many unsent readings behind the newest is moved to the backlog. */
  liveLagReadings: z.int().min(1).max(1_000_000).default(2000),
});

/** The gateway's own clock, checked against the server's (ack `serverTime`). */
const clockSchema = z.strictObject({
  /** A server-gateway clock difference above this is reported as a wrong clock. */
  maxOffsetS: z.number().positive().max(86_400).default(30),
  /** A clock before this instant is certainly wrong (a Pi without RTC after a power cut). */
  notBefore: z.iso.datetime({ offset: false }).default('2026-01-01T00:00:00.000Z'),
});

const queueSchema = z.strictObject({
  maxReadings: z.int().min(1).max(100_000_000).default(DEFAULT_MAX_QUEUED_READINGS),
});

const serialReconnectSchema = z
  .strictObject({
    minDelayMs: z.int().min(10).max(600_000).default(1000),
    maxDelayMs: z.int().min(10).max(600_000).default(30_000),
  })
  .refine((r) => r.minDelayMs <= r.maxDelayMs, { message: 'minDelayMs must not exceed maxDelayMs', path: ['maxDelayMs'] });

export const gatewayConfigSchema = z
  .strictObject({
    gatewayId: z.string().regex(ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"'),
    dataDir: z.string().min(1),
    mqtt: mqttSchema,
    ports: z.array(portSchema).max(64).default([]),
    sensors: z.array(sensorSchema).max(MAX_SENSORS).default([]),
    queue: queueSchema.prefault({}),
    serialReconnect: serialReconnectSchema.prefault({}),
    healthIntervalS: z.int().min(1).max(86_400).default(60),
    replay: replaySchema.prefault({}),
    clock: clockSchema.prefault({}),
    /**
     * Optional JSON file with the uplink's quality, written by the modem's own tooling (e.g. a
     * cron job around `mmcli`): `{ "rssiDbm": -71, "quality": 60, "technology": "lte" }`. Read at
     * each health message; a missing or bad file only leaves link quality out of the health message.
     */
    linkQualityFile: z.string().min(1).max(1024).optional(),
    /** Modbus RTU buses with their devices and register maps (src/drivers/modbus/schema.ts). */
    modbus: modbusSchema.prefault({}),
    /** Local rules evaluated on the gateway's own readings (src/local-warning, README "Warning when cut off"). */
    localRules: localRulesSchema,
    /** Siren/lamp relays and commands (src/outputs/schema.ts). */
    outputs: outputsSchema,
    /** The uplink down longer than this (ms) makes the gateway warn on its own. */
    offlineAfterMs: offlineAfterMsSchema,
  })
  .superRefine((cfg, ctx) => {
    const paths = new Set<string>();
    cfg.ports.forEach((p, i) => {
      if (paths.has(p.path)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'path'], message: `port "${p.path}" is declared twice` });
      paths.add(p.path);
    });
    const ids = new Set<string>();
    cfg.sensors.forEach((s, i) => {
      if (!paths.has(s.port)) {
        const declared = [...paths].map((p) => `"${p}"`).join(', ') || 'none';
        ctx.addIssue({ code: 'custom', path: ['sensors', i, 'port'], message: `port "${s.port}" is not declared in ports (declared: ${declared})` });
      }
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['sensors', i, 'id'], message: `sensor id "${s.id}" is used twice` });
      ids.add(s.id);
    });
    let total = cfg.sensors.length;
    cfg.modbus.buses.forEach((b, i) => {
      if (paths.has(b.path)) ctx.addIssue({ code: 'custom', path: ['modbus', 'buses', i, 'path'], message: `port "${b.path}" is already used by ports or another bus` });
      paths.add(b.path);
      b.devices.forEach((d, j) => {
        total++;
        if (ids.has(d.sensorId)) ctx.addIssue({ code: 'custom', path: ['modbus', 'buses', i, 'devices', j, 'sensorId'], message: `sensor id "${d.sensorId}" is used twice` });
        ids.add(d.sensorId);
      });
    });
    if (total > MAX_SENSORS) ctx.addIssue({ code: 'custom', path: ['modbus'], message: `at most ${MAX_SENSORS} sensors in all (line sensors and Modbus devices): ${total} configured` });
  })
  .transform((cfg) => ({ ...cfg, mqtt: { ...cfg.mqtt, username: cfg.mqtt.username ?? cfg.gatewayId } }));

/** The validated configuration with every default filled in. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
/** What a config file or a programmatic caller may write: defaults may be left out. */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type PortConfig = GatewayConfig['ports'][number];
export type SensorConfig = GatewayConfig['sensors'][number];
export type ChannelConfig = SensorConfig['channels'][string];
