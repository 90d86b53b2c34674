/**
 * Detection rules as validated data (issue 4). One zod discriminated union on `kind`; every
 * object is strict so a typo in a config file is an error, not a silently ignored field.
 * Semantics of each kind and the basis of each default: docs/DETECTION.md.
 */
import { z } from 'zod';
import { QUANTITIES } from '../quantities.ts';
import { ID_PATTERN } from '../mqtt/topics.ts';

const id = z.string().regex(ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"');
const DAY_MS = 86_400_000;
/** Longest window any rule may use (the 15-day antecedent rain of Pacitan fits with room). */
export const MAX_WINDOW_MS = 31 * DAY_MS;
const durationMs = z.int().min(0).max(MAX_WINDOW_MS);
const windowMs = z.int().min(1000).max(MAX_WINDOW_MS);
const finite = z.number().finite();

/** Hazard levels above Normal (a rule escalates to one of these). */
export const RULE_LEVELS = ['Waspada', 'Siaga', 'Awas'] as const;
export type RuleLevel = (typeof RULE_LEVELS)[number];
const ruleLevel = z.enum(RULE_LEVELS);

/** One level: raise at or above `raise`, clear only below `clear` (hysteresis). */
export const levelBandSchema = z
  .strictObject({ raise: finite, clear: finite })
  .refine((l) => l.clear <= l.raise, { message: 'clear must be <= raise (hysteresis below the threshold)' });

const levelsSchema = z
  .strictObject({ Waspada: levelBandSchema.optional(), Siaga: levelBandSchema.optional(), Awas: levelBandSchema.optional() })
  .refine((l) => Object.values(l).some((v) => v !== undefined), { message: 'needs at least one level' });

/** Fields every rule has. `siteId`/`areaId` are metadata for the alert (where), not used to match. */
const common = {
  id,
  siteId: id.optional(),
  areaId: id.optional(),
  /** Free text for operators (why this rule, who set the numbers). */
  note: z.string().max(500).optional(),
  /**
   * false: a building block of composite rules. Its level is kept (levels(), composites read it)
   * but its changes are not returned by the detector, so nobody is notified of it alone.
   */
  announce: z.boolean().default(true),
};

/** Anti-flapping controls shared by the level-based kinds (docs/DETECTION.md "Noise"). */
const antiFlap = {
  /** Consecutive evaluations at or above a level's raise before escalating to it. */
  confirmReadings: z.int().min(1).max(100).default(2),
  /** ...and for at least this long (event time) since the first of them (0 = no minimum). */
  confirmMs: durationMs.default(0),
  /** Consecutive evaluations below the current level's clear before dropping one level. */
  clearReadings: z.int().min(1).max(1000).default(3),
  /** ...and for at least this long since the first of them (hold time before de-escalation). */
  holdMs: durationMs.default(0),
};

const hazard = z.enum(['flood', 'landslide', 'sensor-health']);
const hazardOnly = z.enum(['flood', 'landslide']);

/** Backward compatible with the session-1 server config (`hazard` flood|landslide, same fields). */
export const thresholdRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('threshold'),
  hazard,
  sensorId: id,
  quantity: z.enum(QUANTITIES),
  levels: levelsSchema,
  ...antiFlap,
});

/** Rise (or fall, with negative levels not supported: use a positive rate) over a window. */
export const rateOfChangeRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('rate-of-change'),
  hazard,
  sensorId: id,
  quantity: z.enum(QUANTITIES),
  windowMs,
  /** Rate unit: quantity unit per hour or per day (cm/h water rise, mm/day displacement). */
  per: z.enum(['hour', 'day']).default('hour'),
  /** Shortest span between the reference and the newest reading (default: half the window). */
  minSpanMs: durationMs.optional(),
  /** Ring resolution: buckets per window (approximation: docs/DETECTION.md). */
  buckets: z.int().min(4).max(1440).default(60),
  levels: levelsSchema,
  ...antiFlap,
});

/** Sum of per-interval amounts (rain mm) over a sliding window. */
export const accumulationRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('accumulation'),
  hazard,
  sensorId: id,
  quantity: z.enum(QUANTITIES).default('rain'),
  windowMs,
  buckets: z.int().min(4).max(1440).default(60),
  levels: levelsSchema,
  ...antiFlap,
});

/** At least `minPerHour` in every step for at least `minDurationMs` (BMKG: 5 mm/h for 5 h). */
export const sustainedIntensityRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('sustained-intensity'),
  hazard: hazardOnly,
  sensorId: id,
  quantity: z.enum(QUANTITIES).default('rain'),
  minPerHour: z.number().finite().positive(),
  minDurationMs: z.int().min(60_000).max(MAX_WINDOW_MS),
  /** Length of one step whose amount is compared with minPerHour (default 1 h). */
  stepMs: z.int().min(60_000).max(DAY_MS).default(3_600_000),
  level: ruleLevel.default('Waspada'),
  holdMs: durationMs.default(0),
});

/** Rain event above an intensity–duration curve I = a·D^b (Caine 1980: a 14.82, b −0.39, D in h). */
export const intensityDurationRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('intensity-duration'),
  hazard: hazardOnly,
  sensorId: id,
  quantity: z.enum(QUANTITIES).default('rain'),
  a: z.number().finite().positive(),
  b: z.number().finite().min(-5).max(5),
  durationUnit: z.enum(['hour', 'day']).default('hour'),
  /** An event ends after this long without rain (Progo catchment study: 24 h). */
  dryGapMs: z.int().min(60_000).max(MAX_WINDOW_MS).default(DAY_MS),
  /** Durations shorter than this are evaluated as this (a single tip is not an intensity). */
  minDurationMs: z.int().min(60_000).max(MAX_WINDOW_MS).default(3_600_000),
  level: ruleLevel.default('Siaga'),
  holdMs: durationMs.default(0),
});

/** Level of another rule, counted as met when it was at or above `minLevel` within the alignment. */
const conditionSchema = z.strictObject({ ruleId: id, minLevel: ruleLevel });

/** Several rules agree (e.g. rain ≥ Siaga and movement ≥ Siaga within 6 h → landslide Awas). */
export const compositeRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('composite'),
  hazard,
  mode: z.enum(['all', 'any']).default('all'),
  conditions: z.array(conditionSchema).min(1).max(20),
  /** A condition counts as met for this long after its rule last was at or above minLevel. */
  alignMs: durationMs.default(0),
  level: ruleLevel,
  holdMs: durationMs.default(0),
});

/** No reading from a sensor for `timeoutMs` (event time advanced by ticks) → technician alert. */
export const deadmanRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('deadman'),
  hazard: z.literal('sensor-health').default('sensor-health'),
  sensorId: id,
  quantity: z.enum(QUANTITIES).optional(),
  timeoutMs: z.int().min(1000).max(MAX_WINDOW_MS),
  level: ruleLevel.default('Waspada'),
});

/** The same value (within `tolerance`) for `minReadings` readings and `minDurationMs`. */
export const flatlineRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('flatline'),
  hazard: z.literal('sensor-health').default('sensor-health'),
  sensorId: id,
  quantity: z.enum(QUANTITIES),
  minReadings: z.int().min(2).max(100_000),
  minDurationMs: durationMs.default(0),
  tolerance: z.number().finite().min(0).default(0),
  /** Values that are normal to repeat (a rain gauge reading 0 mm when it does not rain). */
  ignoreValues: z.array(finite).max(10).default([]),
  level: ruleLevel.default('Waspada'),
});

/** Suspect quality or outside [min, max] for `confirmReadings` readings in a row. */
export const outOfRangeRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('out-of-range'),
  hazard: z.literal('sensor-health').default('sensor-health'),
  sensorId: id,
  quantity: z.enum(QUANTITIES),
  min: finite.optional(),
  max: finite.optional(),
  confirmReadings: z.int().min(1).max(100).default(1),
  clearReadings: z.int().min(1).max(1000).default(3),
  level: ruleLevel.default('Waspada'),
});

/** Battery voltage below `belowV`; clears at or above `clearV` (hysteresis above). */
export const lowBatteryRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('low-battery'),
  hazard: z.literal('sensor-health').default('sensor-health'),
  sensorId: id,
  belowV: z.number().finite().positive(),
  clearV: z.number().finite().positive(),
  confirmReadings: z.int().min(1).max(100).default(3),
  clearReadings: z.int().min(1).max(1000).default(3),
  level: ruleLevel.default('Waspada'),
});

/**
 * Tamper seen in the readings: a step between consecutive readings larger than `maxStep`
 * (e.g. tilt of an enclosure that was moved or opened). Clears after `clearReadings` calm ones.
 */
export const tamperRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('tamper'),
  hazard: z.literal('sensor-health').default('sensor-health'),
  sensorId: id,
  quantity: z.enum(QUANTITIES),
  maxStep: z.number().finite().positive(),
  clearReadings: z.int().min(1).max(1000).default(10),
  level: ruleLevel.default('Waspada'),
});

export const ruleSchema = z.discriminatedUnion('kind', [
  thresholdRuleSchema,
  rateOfChangeRuleSchema,
  accumulationRuleSchema,
  sustainedIntensityRuleSchema,
  intensityDurationRuleSchema,
  compositeRuleSchema,
  deadmanRuleSchema,
  flatlineRuleSchema,
  outOfRangeRuleSchema,
  lowBatteryRuleSchema,
  tamperRuleSchema,
]);
export type Rule = z.infer<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;
export type RuleKind = Rule['kind'];
export type ThresholdRuleDef = z.infer<typeof thresholdRuleSchema>;
export type RateOfChangeRule = z.infer<typeof rateOfChangeRuleSchema>;
export type AccumulationRule = z.infer<typeof accumulationRuleSchema>;
export type SustainedIntensityRule = z.infer<typeof sustainedIntensityRuleSchema>;
export type IntensityDurationRule = z.infer<typeof intensityDurationRuleSchema>;
export type CompositeRule = z.infer<typeof compositeRuleSchema>;
export type DeadmanRule = z.infer<typeof deadmanRuleSchema>;
export type FlatlineRule = z.infer<typeof flatlineRuleSchema>;
export type OutOfRangeRule = z.infer<typeof outOfRangeRuleSchema>;
export type LowBatteryRule = z.infer<typeof lowBatteryRuleSchema>;
export type TamperRule = z.infer<typeof tamperRuleSchema>;

/** Health kinds: their alerts go to technicians only, never to residents. */
export const HEALTH_KINDS: ReadonlySet<RuleKind> = new Set(['deadman', 'flatline', 'out-of-range', 'low-battery', 'tamper']);

/** A rule set file: `{ "rules": [...] }` (server/config/rules/*.json). */
export const ruleSetSchema = z.strictObject({
  /** Free text: whose rules, which version. */
  description: z.string().max(2000).optional(),
  rules: z.array(ruleSchema).max(10_000),
});
export type RuleSet = z.infer<typeof ruleSetSchema>;
