/**
 * Unacknowledged Siaga/Awas alerts (issue 4, item 4): when an open alert has stayed at Siaga or
 * Awas for `afterMs` without an acknowledgement, the engine emits one `unacknowledged` change
 * for that level, which the notifier sends to responders and on-call staff. Once per level
 * reached: the alert reaching a level again (Awas, Siaga, Awas) starts a new wait.
 *
 * What was already sent is known from the audit trail, so a restart neither repeats nor forgets
 * a reminder.
 */
import type { AlertEvent } from './store.ts';
import type { Alert } from './types.ts';

const REMIND_LEVELS = new Set(['Siaga', 'Awas']);

/** Key of one "level reached" of an alert: its level and when it got there. */
export function reminderKey(alert: Alert): string {
  return `${alert.level}@${alert.updatedAt}`;
}

/** Whether the audit trail already holds the reminder for the alert's current level. */
export function alreadyReminded(alert: Alert, events: readonly AlertEvent[]): boolean {
  return events.some((e) => e.change === 'unacknowledged' && e.to === alert.level && e.at >= alert.updatedAt);
}

/** Active alerts due for a reminder at `nowMs`. */
export function dueReminders(active: Iterable<Alert>, sent: ReadonlySet<string>, nowMs: number, afterMs: number): Alert[] {
  const due: Alert[] = [];
  for (const a of active) {
    if (a.state !== 'open' || !REMIND_LEVELS.has(a.level) || (a.audience ?? 'public') !== 'public') continue;
    if (sent.has(reminderKey(a))) continue;
    if (nowMs - Date.parse(a.updatedAt) >= afterMs) due.push(a);
  }
  return due;
}
