/**
 * Configuration of Modbus RTU buses, devices and values: register maps, not code per device.
 * Included in the gateway schema as `modbus` (src/config/schema.ts); described in
 * gateway/README.md ("Modbus RTU"). Every problem is reported as a `path: message` line.
 */
import { z } from 'zod';
import { QUANTITIES, QUANTITY_UNITS, SENSOR_ID_PATTERN } from '@kentongan/firmware-protocol';
import { HEALTH_KINDS } from '../../sensors/device-health.ts';

/** Modbus limits: 125 registers in one read (Modbus Application Protocol v1.1b3 §6.3); unit ids 1..247. */
export const MAX_READ_REGISTERS = 125;
export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];
/** `big`: high word first (AB CD, the Modbus convention); `little`: low word first (CD AB). */
export const WORD_ORDERS = ['big', 'little'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

const rangeSchema = z
  .strictObject({ min: z.number(), max: z.number() })
  .refine((r) => r.min < r.max, { message: 'min must be below max', path: ['max'] });

export const modbusValueSchema = z
  .strictObject({
    /** Name for logs and stats (lower-case, like a line-protocol channel). */
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be lower-case letters, digits and "_", a letter first, max 32'),
    /** 3 = read holding registers, 4 = read input registers. */
    function: z.literal([3, 4]).default(3),
    /** Protocol address (0-based, what goes in the request: register number − 1 for "register 1" docs). */
    address: z.int().min(0).max(65_535),
    type: z.enum(REGISTER_TYPES).default('uint16'),
    wordOrder: z.enum(WORD_ORDERS).default('big'),
    scale: z.number().refine((v) => v !== 0 && Number.isFinite(v), 'scale must be a finite number other than 0').default(1),
    offset: z.number().default(0),
    /** Unit after scale/offset; checked against the quantity (or the distance unit, or `count`). */
    unit: z.string().max(16).optional(),
    /** The published quantity; exactly one of quantity / health. */
    quantity: z.enum(QUANTITIES).optional(),
    /** A device-health value with no quantity of its own (solar voltage, tamper): kept in stats. */
    health: z.enum(HEALTH_KINDS).optional(),
    pollIntervalS: z.number().min(0.05).max(86_400).default(60),
    range: rangeSchema.optional(),
    tippingBucket: z
      .strictObject({
        mmPerTip: z.number().positive().max(100),
        minTipIntervalMs: z.int().min(0).max(60_000).optional(),
        maxIntensityMmPerH: z.number().positive().optional(),
      })
      .optional(),
    distanceToWater: z
      .strictObject({ sensorAboveDatumCm: z.number().min(-100_000).max(100_000), unit: z.enum(['mm', 'cm', 'm']).default('mm') })
      .optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.quantity === undefined) === (v.health === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'set exactly one of "quantity" and "health"' });
      return;
    }
    if (v.tippingBucket && v.quantity !== 'rain') ctx.addIssue({ code: 'custom', path: ['tippingBucket'], message: 'a tipping bucket measures rain: set quantity "rain"' });
    if (v.tippingBucket && v.type !== 'uint16') ctx.addIssue({ code: 'custom', path: ['type'], message: 'a tip counter is a 16-bit register: use type "uint16"' });
    if (v.tippingBucket && (v.scale !== 1 || v.offset !== 0)) ctx.addIssue({ code: 'custom', path: ['tippingBucket'], message: 'scale/offset do not apply to a tipping bucket: set mmPerTip only' });
    if (v.distanceToWater && v.quantity !== 'water_level') ctx.addIssue({ code: 'custom', path: ['distanceToWater'], message: 'distance to water gives a water level: set quantity "water_level"' });
    if (v.unit !== undefined && v.quantity) {
      const expected = v.tippingBucket ? 'count' : v.distanceToWater ? v.distanceToWater.unit : QUANTITY_UNITS[v.quantity];
      if (v.unit !== expected) ctx.addIssue({ code: 'custom', path: ['unit'], message: `after scale/offset this value must be in "${expected}", not "${v.unit}"` });
    }
  });

export const modbusDeviceSchema = z
  .strictObject({
    /** Sensor id its readings carry (unique across line sensors and Modbus devices). */
    sensorId: z.string().regex(SENSOR_ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"'),
    unitId: z.int().min(1).max(247),
    /** Largest coalesced read; some devices refuse long reads. */
    maxBlockRegisters: z.int().min(1).max(MAX_READ_REGISTERS).default(32),
    values: z.array(modbusValueSchema).min(1).max(64),
  })
  .superRefine((d, ctx) => {
    const seen = new Map<string, string>();
    const names = new Set<string>();
    d.values.forEach((v, i) => {
      if (names.has(v.name)) ctx.addIssue({ code: 'custom', path: ['values', i, 'name'], message: `value name "${v.name}" is used twice` });
      names.add(v.name);
      // The idempotency key is sensorId+epoch+seq+quantity: one quantity per device.
      const key = v.quantity ?? `health:${v.health}`;
      const other = seen.get(key);
      if (other) ctx.addIssue({ code: 'custom', path: ['values', i, v.quantity ? 'quantity' : 'health'], message: `"${v.quantity ?? v.health}" is already read by value "${other}"` });
      else seen.set(key, v.name);
    });
  });

export const modbusBusSchema = z
  .strictObject({
    path: z.string().min(1).max(256),
    baudRate: z.int().min(300).max(1_000_000).default(9600),
    dataBits: z.literal([7, 8]).default(8),
    /** Even parity is the Modbus default (Modbus over Serial Line v1.02 §2.5.1); radar level gauges ship 8E1. */
    parity: z.enum(['none', 'even', 'odd']).default('even'),
    stopBits: z.literal([1, 2]).default(1),
    /** Time for a reply to arrive before the request counts as a timeout. */
    timeoutMs: z.int().min(10).max(10_000).default(500),
    /** Extra attempts after a failed request (not for a device already marked dead). */
    retries: z.int().min(0).max(5).default(1),
    /** Consecutive failed requests after which a device is dead: polled only at the back-off pace. */
    deadAfterFailures: z.int().min(1).max(100).default(3),
    deadBackoff: z
      .strictObject({ minMs: z.int().min(10).max(3_600_000).default(5000), maxMs: z.int().min(10).max(3_600_000).default(300_000) })
      .refine((b) => b.minMs <= b.maxMs, { message: 'minMs must not exceed maxMs', path: ['maxMs'] })
      .prefault({}),
    devices: z.array(modbusDeviceSchema).min(1).max(247),
  })
  .superRefine((b, ctx) => {
    const units = new Set<number>();
    b.devices.forEach((d, i) => {
      if (units.has(d.unitId)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'unitId'], message: `unit id ${d.unitId} is used twice on this bus` });
      units.add(d.unitId);
    });
  });

export const modbusSchema = z.strictObject({ buses: z.array(modbusBusSchema).max(16).default([]) });

export type ModbusConfig = z.output<typeof modbusSchema>;
export type ModbusBusConfig = z.output<typeof modbusBusSchema>;
export type ModbusDeviceConfig = z.output<typeof modbusDeviceSchema>;
export type ModbusValueConfig = z.output<typeof modbusValueSchema>;

/** Registers a value occupies. */
export function registerCount(type: RegisterType): 1 | 2 {
  return type === 'int16' || type === 'uint16' ? 1 : 2;
}
