/** Rain-event kinds: sustained intensity (≥ X mm/h for ≥ Y h) and intensity–duration curves. */
import type { IntensityDurationRule, SustainedIntensityRule } from '../schema.ts';
import { singleLevel } from '../level-machine.ts';
import { fmt, fmtDuration, RANK_OF, type Evaluator } from './evaluator.ts';

interface SustainedState {
  /** Absolute index of the current step (floor(ts / stepMs)). */
  step: number | null;
  stepSum: number;
  /** First step of the current run of steps that each reached the quota. */
  runStart: number | null;
  /** Length of the qualifying run at the last reading, ms. */
  runMs: number;
}

export function sustainedEvaluator(rule: SustainedIntensityRule): Evaluator<SustainedState> {
  const quota = (rule.minPerHour * rule.stepMs) / 3_600_000;
  const d = fmtDuration(rule.minDurationMs);
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: false,
    machine: singleLevel(RANK_OF[rule.level], 1, 1, rule.holdMs),
    init: () => ({ step: null, stepSum: 0, runStart: null, runMs: 0 }),
    measure(s, value, ts) {
      if (value < 0) return Number.NaN;
      const idx = Math.floor(ts / rule.stepMs);
      if (s.step === null) s.step = idx;
      if (idx > s.step) {
        // Close the step that ended: it extends the run or breaks it; empty steps break it.
        if (s.stepSum >= quota) s.runStart ??= s.step;
        else s.runStart = null;
        if (idx > s.step + 1) s.runStart = null;
        s.step = idx;
        s.stepSum = 0;
      }
      if (idx === s.step) s.stepSum += value;
      const current = s.stepSum >= quota;
      const start = s.runStart ?? (current ? s.step : null);
      s.runMs = start === null ? 0 : (s.step - start + (current ? 1 : 0)) * rule.stepMs;
      if (s.runMs >= rule.minDurationMs) return 1;
      // The current step may still reach its quota: hold the level (hysteresis) until it closes.
      return s.runStart !== null || current ? 0.5 : 0;
    },
    lateInsert(s, value, ts, good) {
      // Only the open step can still take rain; a closed step's verdict is not reopened.
      if (!good || value < 0 || s.step === null || Math.floor(ts / rule.stepMs) !== s.step) return false;
      s.stepSum += value;
      return true;
    },
    explain(s, escalated) {
      return {
        value: s.runMs / 3_600_000,
        unit: 'h',
        threshold: rule.minDurationMs / 3_600_000,
        description: escalated
          ? {
              id: `hujan ≥ ${fmt(rule.minPerHour)} mm/jam selama ${fmt(s.runMs / 3_600_000)} jam (batas ${d.id})`,
              en: `rain ≥ ${fmt(rule.minPerHour)} mm/h for ${fmt(s.runMs / 3_600_000)} h (limit ${d.en})`,
            }
          : { id: `hujan di bawah ${fmt(rule.minPerHour)} mm/jam`, en: `rain below ${fmt(rule.minPerHour)} mm/h` },
      };
    },
  };
}

interface EventState {
  start: number | null;
  lastRain: number | null;
  total: number;
  /** Intensity and curve value at the last reading. */
  i: number;
  curve: number;
  durationUnits: number;
}

export function intensityDurationEvaluator(rule: IntensityDurationRule): Evaluator<EventState> {
  const unitMs = rule.durationUnit === 'hour' ? 3_600_000 : 86_400_000;
  const u = rule.durationUnit === 'hour' ? { id: 'jam', en: 'h' } : { id: 'hari', en: 'day' };
  return {
    sensorId: rule.sensorId,
    quantity: rule.quantity,
    acceptsSuspect: false,
    machine: singleLevel(RANK_OF[rule.level], 1, 1, rule.holdMs),
    init: () => ({ start: null, lastRain: null, total: 0, i: 0, curve: 0, durationUnits: 0 }),
    measure(s, value, ts) {
      if (value < 0) return Number.NaN;
      // An event ends after dryGapMs without rain; the next rain starts a new one.
      if (s.lastRain !== null && ts - s.lastRain >= rule.dryGapMs) {
        s.start = null;
        s.total = 0;
        s.lastRain = null;
      }
      if (value > 0) {
        s.start ??= ts;
        s.lastRain = ts;
        s.total += value;
      }
      if (s.start === null) return 0;
      const durMs = Math.max(ts - s.start, rule.minDurationMs);
      s.durationUnits = durMs / unitMs;
      s.i = s.total / s.durationUnits;
      s.curve = rule.a * Math.pow(s.durationUnits, rule.b);
      // Measure: intensity as a share of the curve; 1 = on the curve.
      return s.curve > 0 ? s.i / s.curve : 0;
    },
    lateInsert(s, value, ts, good) {
      if (!good || value <= 0 || s.start === null || ts < s.start) return false;
      s.total += value;
      return true;
    },
    explain(s, escalated) {
      return {
        value: s.i,
        unit: `mm/${u.en}`,
        threshold: s.curve,
        description: {
          id: `intensitas ${fmt(s.i)} mm/${u.id} selama ${fmt(s.durationUnits)} ${u.id} (${escalated ? 'di atas' : 'di bawah'} kurva I-D ${fmt(s.curve)})`,
          en: `intensity ${fmt(s.i)} mm/${u.en} over ${fmt(s.durationUnits)} ${u.en} (${escalated ? 'above' : 'below'} I-D curve ${fmt(s.curve)})`,
        },
      };
    },
  };
}
