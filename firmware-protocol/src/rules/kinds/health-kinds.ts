/**
 * Sensor-health kinds (technician alerts): flatline, out-of-range, low battery, tamper.
 * Deadman lives in the detector because ticks, not readings, raise it.
 * Sequence gaps are not representable here: `RuleReading` carries no sequence number, so the
 * ingest path counts them (DESIGN "Gaps are visible") instead of a rule.
 */
import type { FlatlineRule, LowBatteryRule, OutOfRangeRule, TamperRule } from '../schema.ts';
import { singleLevel } from '../level-machine.ts';
import { fmt, RANK_OF, type Evaluator } from './evaluator.ts';

export function flatlineEvaluator(rule: FlatlineRule): Evaluator<{ ref: number | null; n: number; since: number | null }> {
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: false,
    machine: singleLevel(RANK_OF[rule.level]),
    init: () => ({ ref: null, n: 0, since: null }),
    measure(s, value, ts) {
      if (rule.ignoreValues.some((x) => Math.abs(x - value) <= rule.tolerance)) {
        s.ref = null;
        s.n = 0;
        s.since = null;
        return 0;
      }
      if (s.ref !== null && Math.abs(value - s.ref) <= rule.tolerance) {
        if (s.n < rule.minReadings) s.n++;
      } else {
        s.ref = value;
        s.n = 1;
        s.since = ts;
      }
      return s.n >= rule.minReadings && ts - s.since! >= rule.minDurationMs ? 1 : 0;
    },
    explain(s, escalated, _t, unit) {
      return {
        value: s.ref ?? 0,
        unit,
        threshold: rule.minReadings,
        description: escalated
          ? { id: `nilai macet di ${fmt(s.ref ?? 0)} ${unit} (${rule.minReadings} bacaan sama)`, en: `value stuck at ${fmt(s.ref ?? 0)} ${unit} (${rule.minReadings} equal readings)` }
          : { id: 'nilai bergerak lagi', en: 'value moving again' },
      };
    },
  };
}

export function outOfRangeEvaluator(rule: OutOfRangeRule): Evaluator<{ last: number; good: boolean }> {
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: true,
    machine: singleLevel(RANK_OF[rule.level], rule.confirmReadings, rule.clearReadings),
    init: () => ({ last: 0, good: true }),
    measure(s, value, _ts, good) {
      s.last = value;
      s.good = good && (rule.min === undefined || value >= rule.min) && (rule.max === undefined || value <= rule.max);
      return s.good ? 0 : 1;
    },
    explain(s, escalated, _t, unit) {
      const range = `[${rule.min ?? '-∞'}, ${rule.max ?? '∞'}] ${unit}`;
      return {
        value: s.last,
        unit,
        threshold: rule.max ?? rule.min ?? 0,
        description: escalated
          ? { id: `nilai ${fmt(s.last)} ${unit} di luar rentang ${range} atau mutu meragukan`, en: `value ${fmt(s.last)} ${unit} outside ${range} or suspect quality` }
          : { id: `nilai kembali wajar (${fmt(s.last)} ${unit})`, en: `value plausible again (${fmt(s.last)} ${unit})` },
      };
    },
  };
}

export function lowBatteryEvaluator(rule: LowBatteryRule): Evaluator<{ last: number }> {
  return {
    sensorId: rule.sensorId,
    quantity: 'battery_voltage',
    acceptsSuspect: false,
    machine: singleLevel(RANK_OF[rule.level], rule.confirmReadings, rule.clearReadings),
    init: () => ({ last: 0 }),
    measure(s, value) {
      s.last = value;
      return value < rule.belowV ? 1 : value >= rule.clearV ? 0 : 0.5;
    },
    explain(s, escalated) {
      return {
        value: s.last,
        unit: 'V',
        threshold: escalated ? rule.belowV : rule.clearV,
        description: escalated
          ? { id: `baterai lemah ${fmt(s.last)} V (batas ${rule.belowV} V)`, en: `low battery ${fmt(s.last)} V (limit ${rule.belowV} V)` }
          : { id: `baterai pulih ${fmt(s.last)} V`, en: `battery recovered ${fmt(s.last)} V` },
      };
    },
  };
}

export function tamperEvaluator(rule: TamperRule): Evaluator<{ prev: number | null; step: number }> {
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: true,
    machine: singleLevel(RANK_OF[rule.level], 1, rule.clearReadings),
    init: () => ({ prev: null, step: 0 }),
    measure(s, value) {
      s.step = s.prev === null ? 0 : Math.abs(value - s.prev);
      s.prev = value;
      return s.step > rule.maxStep ? 1 : 0;
    },
    explain(s, escalated, _t, unit) {
      return {
        value: s.step,
        unit,
        threshold: rule.maxStep,
        description: escalated
          ? { id: `lonjakan ${fmt(s.step)} ${unit} antar bacaan: kemungkinan dibongkar/dipindah`, en: `jump of ${fmt(s.step)} ${unit} between readings: possible tampering` }
          : { id: 'tidak ada lonjakan lagi', en: 'no further jumps' },
      };
    },
  };
}
