/**
 * Where a rule's alerts belong: rule -> sensor -> site -> area, resolved once from config.
 */
import type { ServerConfig, ThresholdRule } from '../config/schema.ts';
import { thresholdRuleProblems } from '../detection/threshold.ts';

/** Place and names of a rule, for alerts and messages. */
export interface RulePlace {
  rule: ThresholdRule;
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
  const ruleIds = new Set<string>();
  config.rules.forEach((r, i) => {
    if (ruleIds.has(r.id)) problems.push(`rules.${i}.id: duplicate rule id "${r.id}"`);
    ruleIds.add(r.id);
    if (!sensors.has(r.sensorId)) problems.push(`rules.${i}.sensorId: unknown sensor "${r.sensorId}"`);
    for (const p of thresholdRuleProblems(r)) problems.push(`rules.${i}.${p}`);
  });
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
  for (const rule of config.rules) {
    const site = sites.get(sensors.get(rule.sensorId)!.siteId)!;
    const place: RulePlace = {
      rule,
      siteId: site.id,
      siteName: site.name,
      areaId: site.areaId,
      areaName: areas.get(site.areaId)!,
    };
    rules.set(rule.id, place);
    const list = rulesBySensor.get(rule.sensorId) ?? [];
    list.push(place);
    rulesBySensor.set(rule.sensorId, list);
  }
  return { rules, rulesBySensor, areas, siteNames: new Map(config.sites.map((s) => [s.id, s.name])) };
}
