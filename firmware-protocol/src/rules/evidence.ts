/** Evidence for changes that no single reading decides: deadman (a tick) and composites. */
import type { RuleEvidence } from './detector-contract.ts';
import type { CompositeRule, DeadmanRule } from './schema.ts';
import { fmt, fmtDuration } from './kinds/evaluator.ts';

export function deadmanEvidence(rule: DeadmanRule, sensorId: string, silentMs: number, atMs: number, escalated: boolean): RuleEvidence {
  const t = fmtDuration(rule.timeoutMs);
  const min = silentMs / 60_000;
  return {
    sensorId,
    quantity: rule.quantity ?? null,
    value: min,
    unit: 'min',
    tsMs: atMs,
    threshold: rule.timeoutMs / 60_000,
    description: escalated
      ? { id: `tidak ada data ${fmt(min)} menit (batas ${t.id})`, en: `no data for ${fmt(min)} min (limit ${t.en})` }
      : { id: 'data masuk lagi', en: 'data arriving again' },
  };
}

export function compositeEvidence(rule: CompositeRule, met: boolean[], sensorId: string, atMs: number, escalated: boolean): RuleEvidence {
  const parts = rule.conditions.map((c, i) => `${c.ruleId} ≥ ${c.minLevel}${met[i] ? ' ✓' : ' ✗'}`).join(', ');
  const need = rule.mode === 'all' ? rule.conditions.length : 1;
  const w = fmtDuration(rule.alignMs);
  return {
    sensorId,
    quantity: null,
    value: met.filter(Boolean).length,
    unit: 'conditions',
    tsMs: atMs,
    threshold: need,
    description: escalated
      ? { id: `syarat terpenuhi bersamaan (dalam ${w.id}): ${parts}`, en: `conditions met together (within ${w.en}): ${parts}` }
      : { id: `syarat tidak lagi terpenuhi: ${parts}`, en: `conditions no longer met: ${parts}` },
  };
}
