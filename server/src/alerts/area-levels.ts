/**
 * The level of each area: the highest level among its active (open or acknowledged) alerts,
 * Normal where none is active. Published retained under `kentongan/v1/alerts/<areaId>` by the
 * caller for sirens and displays; this module decides *what* and *when* to publish.
 */
import { levelRank, PROTOCOL_VERSION, type AreaAlert, type Level } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { Alert } from './types.ts';

export interface AreaStatus {
  level: Level;
  /** The alert that sets the level (highest level, then the earliest opened); null at Normal. */
  alert: Alert | null;
}

/** Every configured area (Normal by default) plus any area an active alert names. */
export function computeAreaStatus(areaIds: Iterable<string>, active: Iterable<Alert>): Map<string, AreaStatus> {
  const out = new Map<string, AreaStatus>();
  for (const id of areaIds) out.set(id, { level: 'Normal', alert: null });
  for (const a of active) {
    if (a.state === 'resolved' || a.level === 'Normal') continue;
    const cur = out.get(a.areaId);
    const better =
      !cur ||
      cur.alert === null ||
      levelRank(a.level) > levelRank(cur.level) ||
      (levelRank(a.level) === levelRank(cur.level) && a.openedAt < cur.alert.openedAt);
    if (better) out.set(a.areaId, { level: a.level, alert: a });
  }
  return out;
}

/**
 * Publishes an area's level when it (or the alert behind it) changed since the last publish.
 * A throwing publisher is logged and counted, never propagated: MQTT trouble must not stop
 * alerting.
 */
export class AreaPublisher {
  private readonly last = new Map<string, { level: Level; alertId: string | null }>();
  errors = 0;

  constructor(
    private readonly publish: (msg: AreaAlert) => void,
    private readonly logger: Logger,
  ) {}

  /** Remembers the current status without publishing (after loading from the database). */
  prime(status: Map<string, AreaStatus>): void {
    for (const [areaId, s] of status) this.last.set(areaId, { level: s.level, alertId: s.alert?.id ?? null });
  }

  /** Publishes the areas whose status changed, or all of them with `force`. */
  update(status: Map<string, AreaStatus>, ts: string, force = false): void {
    for (const [areaId, s] of status) {
      const alertId = s.alert?.id ?? null;
      const prev = this.last.get(areaId);
      if (!force && prev && prev.level === s.level && prev.alertId === alertId) continue;
      const msg: AreaAlert = {
        v: PROTOCOL_VERSION,
        areaId,
        level: s.level,
        ts,
        alertId,
        hazard: s.alert?.hazard ?? null,
      };
      try {
        this.publish(msg);
        // Remembered only once published, so a failed publish is retried on the next update.
        this.last.set(areaId, { level: s.level, alertId });
      } catch (err) {
        this.errors++;
        this.logger.error({ areaId, err }, 'area level publish failed');
      }
    }
  }
}
