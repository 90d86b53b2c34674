/** A notification payload as the engine would queue it. */
import type { NotificationPayload } from '../../src/notify/outbox.ts';

export function samplePayload(alertId = 'alert-1'): NotificationPayload {
  return {
    v: 1,
    alert: {
      id: alertId,
      ruleId: 'r1',
      hazard: 'flood',
      areaId: 'jatinangor',
      siteId: 'pos',
      sensorId: 'wl-01',
      level: 'Siaga',
      maxLevel: 'Siaga',
      state: 'open',
      evidence: { value: 170, unit: 'cm', ts: '2026-11-28T07:05:00.000Z', threshold: 160 },
      openedAt: '2026-11-28T07:05:01.000Z',
      updatedAt: '2026-11-28T07:05:01.000Z',
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedBy: null,
      resolvedAt: null,
      note: null,
    },
    change: 'opened',
    from: null,
    to: 'Siaga',
    actor: 'rule:r1',
    at: '2026-11-28T07:05:01.000Z',
    message: { id: 'SIAGA BANJIR ...', en: 'SIAGA FLOOD ...' },
  };
}
