/**
 * Where a rule's alerts belong: rule -> sensor -> site -> area, resolved once from config.
 */
import type { Quantity } from '@kentongan/firmware-protocol';
import type { Rule, ServerConfig } from '../config/schema.ts';
import { quantityOf, ruleSetProblemsOf, sensorIdsOf } from '../detection/detector.ts';

/** Place and names of a rule, for alerts and messages. */
export interface RulePlace {
  rule: Rule;
  ruleId: string;
  /** Every sensor the rule reads; the first one is the alert's `sensorId`. */
  sensorIds: string[];
  quantity: Quantity | undefined;
  /** The alert's hazard: the rule's own, or (health rules) guessed from the quantity. */
  hazard: 'flood' | 'landslide';
  siteId: string;
  siteName: string;
  areaId: string;
  areaName: string;
}

export interface Topology {
  /** Configured rules with their place, by rule id. */
  rules: Map<string, RulePlace>;
  /** Rules per sensor id, so a reading finds its rules in O(1). */
  rulesBySensor: Map<string, RulePlace[]>;
  /** Configured area ids with their names. */
  areas: Map<string, string>;
  siteNames: Map<string, string>;
}

/**
 * Cross-reference problems the config schema cannot see, as `path: message` lines; empty when
 * the config can drive the alert engine. Callers may run it at config load to fail early.
 */
export function validateAlertConfig(config: ServerConfig): string[] {
  const problems: string[] = [];
  const areaIds = new Set(config.areas.map((a) => a.id));
  const sites = new Map(config.sites.map((s) => [s.id, s]));
  const sensors = new Map(config.sensors.map((s) => [s.id, s]));
  config.sites.forEach((s, i) => {
    if (!areaIds.has(s.areaId)) problems.push(`sites.${i}.areaId: unknown area "${s.areaId}"`);
  });
  config.sensors.forEach((s, i) => {
    if (!sites.has(s.siteId)) problems.push(`sensors.${i}.siteId: unknown site "${s.siteId}"`);
  });
  const byId = new Map(config.rules.map((r) => [r.id, r]));
  config.rules.forEach((r, i) => {
    const ids = ruleSensors(r, byId);
    const meta = r as { siteId?: string; areaId?: string };
    if (meta.siteId !== undefined && !sites.has(meta.siteId)) problems.push(`rules.${i}.siteId: unknown site "${meta.siteId}"`);
    if (meta.areaId !== undefined && !areaIds.has(meta.areaId)) problems.push(`rules.${i}.areaId: unknown area "${meta.areaId}"`);
    if (ids.length === 0 && meta.siteId === undefined) problems.push(`rules.${i}: names no sensor and no siteId`);
    const where = typeof (r as { sensorId?: unknown }).sensorId === 'string' ? `rules.${i}.sensorId` : `rules.${i}`;
    for (const s of ids) if (!sensors.has(s)) problems.push(`${where}: unknown sensor "${s}"`);
  });
  // Level order, duplicate ids, composites naming unknown rules or in a cycle (shared checks).
  // Reported in the config's own path style: `rules[1] (id).levels...` -> `rules.1.levels...`.
  problems.push(...ruleSetProblemsOf(config.rules).map((p) => p.replace(/^rules\[(\d+)\] \([^)]*\)\./, 'rules.$1.')));
  const channelIds = new Set<string>();
  config.notify.channels.forEach((c, i) => {
    if (channelIds.has(c.id)) problems.push(`notify.channels.${i}.id: duplicate channel id "${c.id}"`);
    channelIds.add(c.id);
  });
  return problems;
}

/** Builds the lookups; call only with a config that `validateAlertConfig` accepted. */
export function buildTopology(config: ServerConfig): Topology {
  const areas = new Map(config.areas.map((a) => [a.id, a.name]));
  const sites = new Map(config.sites.map((s) => [s.id, s]));
  const sensors = new Map(config.sensors.map((s) => [s.id, s]));
  const rules = new Map<string, RulePlace>();
  const rulesBySensor = new Map<string, RulePlace[]>();
  const byId = new Map(config.rules.map((r) => [r.id, r]));
  for (const rule of config.rules) {
    const sensorIds = ruleSensors(rule, byId);
    const meta = rule as { siteId?: string; areaId?: string };
    const site = sites.get(meta.siteId ?? sensors.get(sensorIds[0]!)!.siteId)!;
    const areaId = meta.areaId ?? site.areaId;
    const quantity = quantityOf(rule);
    const place: RulePlace = {
      rule,
      ruleId: rule.id,
      sensorIds,
      quantity,
      hazard: hazardOf(rule, quantity),
      siteId: site.id,
      siteName: site.name,
      areaId,
      areaName: areas.get(areaId)!,
    };
    rules.set(rule.id, place);
    for (const sensorId of sensorIds) {
      const list = rulesBySensor.get(sensorId) ?? [];
      list.push(place);
      rulesBySensor.set(sensorId, list);
    }
  }
  return { rules, rulesBySensor, areas, siteNames: new Map(config.sites.map((s) => [s.id, s.name])) };
}

/** The sensors of a rule; a composite reads those of the rules it names (cycles are cut). */
function ruleSensors(rule: Rule, byId: ReadonlyMap<string, Rule>, seen = new Set<string>()): string[] {
  if (seen.has(rule.id)) return [];
  seen.add(rule.id);
  const own = sensorIdsOf(rule);
  const conditions = (rule as { conditions?: { ruleId?: unknown }[] }).conditions;
  if (!Array.isArray(conditions)) return own;
  const nested = conditions.flatMap((c) => {
    const ref = typeof c?.ruleId === 'string' ? byId.get(c.ruleId) : undefined;
    return ref ? ruleSensors(ref, byId, seen) : [];
  });
  return [...new Set([...own, ...nested])];
}

function hazardOf(rule: Rule, quantity: Quantity | undefined): 'flood' | 'landslide' {
  const h = (rule as { hazard?: unknown }).hazard;
  if (h === 'flood' || h === 'landslide') return h;
  return quantity === 'displacement' || quantity === 'tilt_x' || quantity === 'tilt_y' ? 'landslide' : 'flood';
}
