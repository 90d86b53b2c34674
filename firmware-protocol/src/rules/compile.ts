/** Turns a validated rule into what the detector runs: an evaluator or a tick/composite entry. */
import type { RuleAudience } from './detector-contract.ts';
import { singleLevel, type MachineConfig, type MachineState } from './level-machine.ts';
import { HEALTH_KINDS, type CompositeRule, type DeadmanRule, type Rule } from './schema.ts';
import { RANK_OF, type Evaluator } from './kinds/evaluator.ts';
import { accumulationEvaluator, rateEvaluator, thresholdEvaluator } from './kinds/level-kinds.ts';
import { intensityDurationEvaluator, sustainedEvaluator } from './kinds/rain-kinds.ts';
import { flatlineEvaluator, lowBatteryEvaluator, outOfRangeEvaluator, tamperEvaluator } from './kinds/health-kinds.ts';

interface Base {
  id: string;
  hazard: 'flood' | 'landslide' | 'sensor-health';
  audience: RuleAudience;
  /** Rule as configured, serialised: a snapshot taken under other settings is not reused. */
  fingerprint: string;
  /** False: changes are kept internal (composite building block). */
  announce: boolean;
  cfg: MachineConfig;
  m: MachineState;
}

export type Entry =
  | (Base & { type: 'reading'; ev: Evaluator; k: unknown })
  | (Base & { type: 'deadman'; rule: DeadmanRule; k: { last: number | null; base: number | null } })
  | (Base & { type: 'composite'; rule: CompositeRule; k: Record<string, never> });

/** Health rules warn technicians only (issue 4: never residents). */
export function audienceOf(rule: Pick<Rule, 'kind' | 'hazard'>): RuleAudience {
  return HEALTH_KINDS.has(rule.kind) || rule.hazard === 'sensor-health' ? 'technician' : 'public';
}

function evaluatorOf(rule: Rule): Evaluator | null {
  switch (rule.kind) {
    case 'threshold':
      return thresholdEvaluator(rule) as Evaluator;
    case 'rate-of-change':
      return rateEvaluator(rule) as Evaluator;
    case 'accumulation':
      return accumulationEvaluator(rule) as Evaluator;
    case 'sustained-intensity':
      return sustainedEvaluator(rule) as Evaluator;
    case 'intensity-duration':
      return intensityDurationEvaluator(rule) as Evaluator;
    case 'flatline':
      return flatlineEvaluator(rule) as Evaluator;
    case 'out-of-range':
      return outOfRangeEvaluator(rule) as Evaluator;
    case 'low-battery':
      return lowBatteryEvaluator(rule) as Evaluator;
    case 'tamper':
      return tamperEvaluator(rule) as Evaluator;
    default:
      return null;
  }
}

/** Fresh entry for a rule; null for a kind this version does not know (reported, not thrown). */
export function compileRule(rule: Rule, initialMachine: () => MachineState): Entry | null {
  const base = {
    id: rule.id,
    hazard: rule.hazard,
    audience: audienceOf(rule),
    fingerprint: JSON.stringify(rule),
    announce: rule.announce !== false,
    m: initialMachine(),
  };
  if (rule.kind === 'deadman') {
    return { ...base, type: 'deadman', rule, cfg: singleLevel(RANK_OF[rule.level]), k: { last: null, base: null } };
  }
  if (rule.kind === 'composite') {
    return { ...base, type: 'composite', rule, cfg: singleLevel(RANK_OF[rule.level], 1, 1, rule.holdMs), k: {} };
  }
  const ev = evaluatorOf(rule);
  if (!ev) return null;
  return { ...base, type: 'reading', ev, cfg: ev.machine, k: ev.init() };
}

/** A fresh kind state of the same entry (to check a snapshot's shape against). */
export function freshKindState(e: Entry): unknown {
  if (e.type === 'reading') return e.ev.init();
  if (e.type === 'deadman') return { last: null, base: null };
  return {};
}
