/**
 * Checks a schema cannot express: raise ordering across levels, duplicate ids, composites
 * naming unknown rules or forming cycles, ranges that are empty. Returned as `path: message`
 * strings so a config loader or an HTTP API can show them all at once.
 */
import { RULE_LEVELS, type Rule } from './schema.ts';

type Levels = Partial<Record<(typeof RULE_LEVELS)[number], { raise: number; clear: number }>>;

function levelOrderProblems(prefix: string, levels: Levels): string[] {
  const out: string[] = [];
  const configured = RULE_LEVELS.filter((l) => levels[l] !== undefined);
  for (let i = 1; i < configured.length; i++) {
    const lo = configured[i - 1]!;
    const hi = configured[i]!;
    if (levels[hi]!.raise <= levels[lo]!.raise) out.push(`${prefix}.levels.${hi}.raise: must be > levels.${lo}.raise`);
  }
  return out;
}

/** Every problem of a rule set; empty when the set is usable. */
export function ruleProblems(rules: readonly Rule[]): string[] {
  const out: string[] = [];
  const byId = new Map<string, Rule>();
  for (const [i, rule] of rules.entries()) {
    const p = `rules[${i}] (${rule.id})`;
    if (byId.has(rule.id)) out.push(`${p}.id: duplicate rule id "${rule.id}"`);
    byId.set(rule.id, rule);
    if ('levels' in rule) out.push(...levelOrderProblems(p, rule.levels as Levels));
    if (rule.kind === 'rate-of-change' && rule.minSpanMs !== undefined && rule.minSpanMs > rule.windowMs) {
      out.push(`${p}.minSpanMs: must be <= windowMs`);
    }
    if (rule.kind === 'sustained-intensity' && rule.minDurationMs < rule.stepMs) out.push(`${p}.minDurationMs: must be >= stepMs`);
    if (rule.kind === 'out-of-range' && rule.min !== undefined && rule.max !== undefined && rule.min >= rule.max) {
      out.push(`${p}.min: must be < max`);
    }
    if (rule.kind === 'low-battery' && rule.clearV < rule.belowV) out.push(`${p}.clearV: must be >= belowV (hysteresis above)`);
  }
  for (const [i, rule] of rules.entries()) {
    if (rule.kind !== 'composite') continue;
    for (const [j, c] of rule.conditions.entries()) {
      if (c.ruleId === rule.id) out.push(`rules[${i}] (${rule.id}).conditions[${j}]: a composite cannot use itself`);
      else if (!byId.has(c.ruleId)) out.push(`rules[${i}] (${rule.id}).conditions[${j}].ruleId: unknown rule "${c.ruleId}"`);
    }
  }
  const cycle = findCycle(rules, byId);
  if (cycle) out.push(`composite cycle: ${cycle.join(' -> ')}`);
  return out;
}

/** Depth-first search over composite conditions; returns one cycle path if any. */
function findCycle(rules: readonly Rule[], byId: Map<string, Rule>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    const s = state.get(id);
    if (s === 'done') return null;
    if (s === 'open') return [...path.slice(path.indexOf(id)), id];
    const rule = byId.get(id);
    if (!rule || rule.kind !== 'composite') {
      state.set(id, 'done');
      return null;
    }
    state.set(id, 'open');
    path.push(id);
    for (const c of rule.conditions) {
      if (c.ruleId === id) continue; // reported above as self-use
      const found = visit(c.ruleId);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const r of rules) {
    const found = visit(r.id);
    if (found) return found;
  }
  return null;
}

/**
 * Composite rules ordered so that every rule comes after the rules it reads (Kahn's order).
 * Rules in a cycle or naming unknown rules are left out (ruleProblems reports them).
 */
export function compositeOrder(rules: readonly Rule[]): string[] {
  const ids = new Set(rules.map((r) => r.id));
  const composites = rules.filter((r) => r.kind === 'composite');
  const done = new Set(rules.filter((r) => r.kind !== 'composite').map((r) => r.id));
  const order: string[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (const r of composites) {
      if (done.has(r.id)) continue;
      const ok = r.conditions.every((c) => ids.has(c.ruleId) && c.ruleId !== r.id && done.has(c.ruleId));
      if (ok) {
        done.add(r.id);
        order.push(r.id);
        progress = true;
      }
    }
  }
  return order;
}
