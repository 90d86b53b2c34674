/**
 * Pure alert transitions: each takes the alert as it is and returns the new record with the
 * `AlertChange` that describes it. No I/O; the engine persists and announces the result.
 *
 * Policy decisions (documented in docs and the engine):
 * - An escalation of an acknowledged alert re-opens it (state `open`, acknowledgement cleared):
 *   a higher level needs a fresh human look. The audit trail keeps the earlier acknowledgement.
 * - A rule-driven resolve (back to Normal) sets the alert's level to Normal; an operator resolve
 *   keeps the level the alert had, since the measurement did not go back. Both report `to: Normal`.
 */
import { maxLevel, type Level } from '@kentongan/firmware-protocol';
import type { Alert, AlertAudience, AlertChange } from './types.ts';
import type { RulePlace } from './topology.ts';

export type Evidence = Alert['evidence'];

export function ruleActor(ruleId: string): string {
  return `rule:${ruleId}`;
}

export function openAlert(
  place: RulePlace,
  id: string,
  level: Level,
  evidence: Evidence,
  at: string,
  extra: { audience?: AlertAudience; lateByMs?: number | null; sensorId?: string } = {},
): AlertChange {
  const alert: Alert = {
    id,
    ruleId: place.ruleId,
    hazard: place.hazard,
    areaId: place.areaId,
    siteId: place.siteId,
    sensorId: extra.sensorId ?? place.sensorIds[0]!,
    level,
    maxLevel: level,
    state: 'open',
    evidence,
    openedAt: at,
    updatedAt: at,
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    note: null,
    audience: extra.audience ?? 'public',
    lateByMs: extra.lateByMs ?? null,
  };
  return { alert, change: 'opened', from: null, to: level, actor: ruleActor(place.ruleId), at };
}

export function escalateAlert(alert: Alert, to: Level, evidence: Evidence, at: string, lateByMs: number | null = null): AlertChange {
  const next: Alert = {
    ...alert,
    lateByMs,
    level: to,
    maxLevel: maxLevel(alert.maxLevel, to),
    state: 'open',
    evidence,
    updatedAt: at,
    acknowledgedBy: null,
    acknowledgedAt: null,
  };
  return { alert: next, change: 'escalated', from: alert.level, to, actor: ruleActor(alert.ruleId), at };
}

export function deescalateAlert(alert: Alert, to: Level, evidence: Evidence, at: string, lateByMs: number | null = null): AlertChange {
  if (to === 'Normal') {
    const next: Alert = {
      ...alert,
      lateByMs,
      level: 'Normal',
      state: 'resolved',
      evidence,
      updatedAt: at,
      resolvedBy: ruleActor(alert.ruleId),
      resolvedAt: at,
    };
    return { alert: next, change: 'resolved', from: alert.level, to: 'Normal', actor: ruleActor(alert.ruleId), at };
  }
  const next: Alert = { ...alert, level: to, evidence, updatedAt: at, lateByMs };
  return { alert: next, change: 'deescalated', from: alert.level, to, actor: ruleActor(alert.ruleId), at };
}

export function acknowledgeAlert(alert: Alert, by: string, note: string | null, at: string): AlertChange {
  const next: Alert = {
    ...alert,
    state: 'acknowledged',
    acknowledgedBy: by,
    acknowledgedAt: at,
    note: note ?? alert.note,
    updatedAt: at,
  };
  return { alert: next, change: 'acknowledged', from: alert.level, to: alert.level, actor: by, at };
}

export function operatorResolveAlert(alert: Alert, by: string, note: string | null, at: string): AlertChange {
  const next: Alert = {
    ...alert,
    state: 'resolved',
    resolvedBy: by,
    resolvedAt: at,
    note: note ?? alert.note,
    updatedAt: at,
  };
  return { alert: next, change: 'resolved', from: alert.level, to: 'Normal', actor: by, at };
}

/** A Siaga/Awas alert nobody acknowledged in time (the alert itself does not change). */
export function unacknowledgedReminder(alert: Alert, at: string): AlertChange {
  return { alert, change: 'unacknowledged', from: alert.level, to: alert.level, actor: ruleActor(alert.ruleId), at };
}
