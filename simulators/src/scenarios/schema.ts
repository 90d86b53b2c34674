/**
 * Scenario files: what each simulated sensor measures over scenario time. Values follow
 * piecewise-linear curves through given points (plus optional seeded noise); rain gauges
 * follow a rain-rate curve and report a cumulative tip counter, as real tipping buckets do.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CHANNEL_NAME_PATTERN, SENSOR_ID_PATTERN, formatZodError } from '@kentongan/firmware-protocol';

/** `[scenarioSeconds, value]` pairs, time ascending. */
const curve = z
  .array(z.tuple([z.number().min(0), z.number().finite()]))
  .min(1)
  .refine((pts) => pts.every((p, i) => i === 0 || p[0] > pts[i - 1]![0]), { message: 'times must be strictly ascending' });

const channelSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('curve'),
    points: curve,
    /** Uniform noise amplitude (+/-), deterministic per sensor. */
    noise: z.number().min(0).default(0),
    decimals: z.int().min(0).max(6).default(1),
  }),
  z.strictObject({
    kind: z.literal('tipping-bucket'),
    mmPerTip: z.number().positive(),
    /** Rain rate in mm/h over scenario time. */
    rateMmPerH: curve,
  }),
]);
export type ChannelSpec = z.infer<typeof channelSchema>;

export const sensorSpecSchema = z.strictObject({
  id: z.string().regex(SENSOR_ID_PATTERN),
  /** Sensor type as announced in HEL, e.g. `water_level`, `rain`. */
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,23}$/),
  firmware: z.string().default('sim-1.0.0'),
  channels: z.record(z.string().regex(CHANNEL_NAME_PATTERN), channelSchema),
  /** Battery voltage reported in heartbeats, falling linearly from start to end. */
  battery: z.strictObject({ startV: z.number(), endV: z.number() }).default({ startV: 4.1, endV: 3.9 }),
});
export type SensorSpec = z.infer<typeof sensorSpecSchema>;

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  title: z.strictObject({ id: z.string(), en: z.string() }),
  description: z.strictObject({ id: z.string(), en: z.string() }),
  /** Scenario length in scenario seconds. */
  durationS: z.int().positive(),
  /** Reporting interval of every sensor, scenario seconds. */
  tickS: z.int().positive(),
  /** A heartbeat every N readings. */
  heartbeatEveryTicks: z.int().positive().default(10),
  sensors: z.array(sensorSpecSchema).min(1),
});
export type Scenario = z.infer<typeof scenarioSchema>;

export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';
}

export function parseScenario(json: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(json);
  if (!result.success) throw new ScenarioError(`${source} is invalid:\n${formatZodError(result.error)}`);
  return result.data;
}

export async function loadScenario(path: string): Promise<Scenario> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseScenario(json, path);
}

/** The scenario files shipped in simulators/scenarios/. */
export function builtInScenarioPath(name: string): string {
  return new URL(`../../scenarios/${name}.json`, import.meta.url).pathname;
}
