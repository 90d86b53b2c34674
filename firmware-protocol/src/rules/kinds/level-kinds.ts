/** Multi-level kinds: threshold (the value), rate of change (per h/day), accumulation (window sum). */
import type { AccumulationRule, RateOfChangeRule, ThresholdRuleDef } from '../schema.ts';
import { addFirst, addSum, initialFirstRing, initialSumRing, sumAt, type FirstRing, type SumRing } from '../ring.ts';
import { bandsOf, fmt, fmtDuration, type Evaluator } from './evaluator.ts';

function antiFlap(rule: { confirmReadings: number; confirmMs: number; clearReadings: number; holdMs: number }) {
  return { confirmReadings: rule.confirmReadings, confirmMs: rule.confirmMs, clearReadings: rule.clearReadings, holdMs: rule.holdMs };
}

export function thresholdEvaluator(rule: ThresholdRuleDef): Evaluator<{ last: number }> {
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: false,
    machine: { bands: bandsOf(rule.levels), ...antiFlap(rule) },
    init: () => ({ last: 0 }),
    measure(s, value) {
      s.last = value;
      return value;
    },
    explain(s, escalated, threshold, unit) {
      const cmp = escalated ? { id: 'mencapai', en: 'reached' } : { id: 'turun di bawah', en: 'fell below' };
      return {
        value: s.last,
        unit,
        threshold,
        description: {
          id: `${fmt(s.last)} ${unit}, ${cmp.id} batas ${fmt(threshold)} ${unit}`,
          en: `${fmt(s.last)} ${unit}, ${cmp.en} limit ${fmt(threshold)} ${unit}`,
        },
      };
    },
  };
}

interface RateState {
  ring: FirstRing;
  rate: number;
}

export function rateEvaluator(rule: RateOfChangeRule): Evaluator<RateState> {
  const width = Math.max(1, Math.ceil(rule.windowMs / rule.buckets));
  const perMs = rule.per === 'hour' ? 3_600_000 : 86_400_000;
  const minSpan = rule.minSpanMs ?? rule.windowMs / 2;
  const w = fmtDuration(rule.windowMs);
  const per = rule.per === 'hour' ? { id: 'jam', en: 'h' } : { id: 'hari', en: 'day' };
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: false,
    machine: { bands: bandsOf(rule.levels), ...antiFlap(rule) },
    init: () => ({ ring: initialFirstRing(rule.buckets), rate: 0 }),
    measure(s, value, ts) {
      const ref = addFirst(s.ring, Math.floor(ts / width), ts, value);
      // Too short a span turns sensor noise into huge rates: no verdict until it is long enough.
      if (ref === null || ts - ref.ts < minSpan || ts - ref.ts <= 0) return Number.NaN;
      s.rate = ((value - ref.value) / (ts - ref.ts)) * perMs;
      return s.rate;
    },
    explain(s, escalated, threshold, unit) {
      const u = `${unit}/${per.en}`;
      return {
        value: s.rate,
        unit: u,
        threshold,
        description: {
          id: `${escalated ? 'naik' : 'laju turun ke'} ${fmt(s.rate)} ${unit}/${per.id} dalam ${w.id} (batas ${fmt(threshold)})`,
          en: `${escalated ? 'rise of' : 'rate down to'} ${fmt(s.rate)} ${u} over ${w.en} (limit ${fmt(threshold)})`,
        },
      };
    },
  };
}

interface SumState {
  ring: SumRing;
  sum: number;
}

export function accumulationEvaluator(rule: AccumulationRule): Evaluator<SumState> {
  const width = Math.max(1, Math.ceil(rule.windowMs / rule.buckets));
  const w = fmtDuration(rule.windowMs);
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: false,
    machine: { bands: bandsOf(rule.levels), ...antiFlap(rule) },
    init: () => ({ ring: initialSumRing(rule.buckets), sum: 0 }),
    measure(s, value, ts) {
      // Amounts per interval are never negative; a negative one is a fault, not "un-rain".
      if (value < 0) return Number.NaN;
      const idx = Math.floor(ts / width);
      addSum(s.ring, idx, value);
      s.sum = sumAt(s.ring, idx);
      return s.sum;
    },
    lateInsert(s, value, ts, good) {
      if (!good || value < 0 || s.ring.head === null) return false;
      const idx = Math.floor(ts / width);
      if (idx <= s.ring.head - rule.buckets) return false; // already outside the window
      addSum(s.ring, idx, value);
      return true;
    },
    explain(s, escalated, threshold, unit) {
      return {
        value: s.sum,
        unit,
        threshold,
        description: {
          id: `${fmt(s.sum)} ${unit} dalam ${w.id} (${escalated ? 'batas' : 'turun di bawah'} ${fmt(threshold)} ${unit})`,
          en: `${fmt(s.sum)} ${unit} in ${w.en} (${escalated ? 'limit' : 'below'} ${fmt(threshold)} ${unit})`,
        },
      };
    },
  };
}
