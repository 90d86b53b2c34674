/**
 * Routes a batch of stored readings to the rules they concern, each rule's list in event-time
 * order (then epoch and seq), since ingest may hand readings over in any order.
 */
import type { RulePlace, Topology } from './topology.ts';
import type { StoredReading } from './types.ts';

/** Readings per rule, sorted; non-objects are reported through `onInvalid` and skipped. */
export function groupByRule(
  readings: readonly StoredReading[],
  topology: Topology,
  onInvalid: () => void,
): Map<RulePlace, StoredReading[]> {
  const byRule = new Map<RulePlace, StoredReading[]>();
  for (const r of readings) {
    if (typeof r !== 'object' || r === null) {
      onInvalid();
      continue;
    }
    for (const place of topology.rulesBySensor.get(r.sensorId) ?? []) {
      if (place.rule.quantity !== r.quantity) continue;
      const list = byRule.get(place) ?? [];
      list.push(r);
      byRule.set(place, list);
    }
  }
  // Event-time order per rule; unparsable times first (they are counted invalid and skipped).
  const num = (x: unknown, fallback: number) => (typeof x === 'number' && Number.isFinite(x) ? x : fallback);
  const tsKey = (r: StoredReading) => num(Date.parse(r.ts), Number.MIN_SAFE_INTEGER);
  for (const list of byRule.values()) {
    list.sort((a, b) => tsKey(a) - tsKey(b) || num(a.epoch, 0) - num(b.epoch, 0) || num(a.seq, 0) - num(b.seq, 0));
  }
  return byRule;
}
