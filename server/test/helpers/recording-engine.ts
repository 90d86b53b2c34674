/**
 * A recording fake of the AlertEngine contract (server/src/alerts/types.ts), for tests of the
 * server core that must see exactly what ingest hands over. Alerts can be seeded; acknowledge
 * and resolve follow the contract's errors (`ALERT_NOT_FOUND`, `ALERT_ALREADY_RESOLVED`).
 */
import Database from 'better-sqlite3';
import type { Level } from '@kentongan/firmware-protocol';
import type {
  Alert,
  AlertChange,
  AlertEngine,
  AlertEngineStats,
  AlertState,
  StoredReading,
} from '../../src/alerts/types.ts';

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class RecordingEngine implements AlertEngine {
  readonly calls: StoredReading[][] = [];
  readonly alerts = new Map<string, Alert>();
  levels: Record<string, Level> = {};
  started = false;
  stopped = false;
  /** When set, `onStoredReadings` throws it (to prove ingest survives a faulty engine). */
  throwOnReadings: Error | null = null;
  /** Rows in the readings table at each call, when a database was given: proves commit-before-detect. */
  readonly rowsAtCall: number[] = [];

  constructor(private readonly db?: Database.Database) {}

  onStoredReadings(readings: readonly StoredReading[]): void {
    this.calls.push([...readings]);
    if (this.db) {
      // A second connection sees only committed data (WAL snapshot), unlike the writer's own.
      const reader = new Database(this.db.name, { readonly: true });
      try {
        this.rowsAtCall.push((reader.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n);
      } finally {
        reader.close();
      }
    }
    if (this.throwOnReadings) throw this.throwOnReadings;
  }

  acknowledge(alertId: string, by: string, note: string | null): Alert {
    return this.change(alertId, 'acknowledged', by, note);
  }

  resolve(alertId: string, by: string, note: string | null): Alert {
    return this.change(alertId, 'resolved', by, note);
  }

  private change(alertId: string, state: AlertState, by: string, note: string | null): Alert {
    const a = this.alerts.get(alertId);
    if (!a) throw new CodedError('ALERT_NOT_FOUND', `alert not found: ${alertId}`);
    if (a.state === 'resolved') throw new CodedError('ALERT_ALREADY_RESOLVED', `alert already resolved: ${alertId}`);
    const at = '2025-01-09T09:00:00.000Z';
    const next: Alert =
      state === 'acknowledged'
        ? { ...a, state, acknowledgedBy: by, acknowledgedAt: at, note, updatedAt: at }
        : { ...a, state, resolvedBy: by, resolvedAt: at, note, updatedAt: at };
    this.alerts.set(alertId, next);
    return next;
  }

  listAlerts(filter: { state?: AlertState | 'active'; areaId?: string; limit?: number } = {}): Alert[] {
    return [...this.alerts.values()]
      .filter((a) => !filter.areaId || a.areaId === filter.areaId)
      .filter((a) => !filter.state || (filter.state === 'active' ? a.state !== 'resolved' : a.state === filter.state))
      .slice(0, filter.limit ?? 200);
  }

  getAlert(alertId: string): Alert | undefined {
    return this.alerts.get(alertId);
  }

  areaLevels(): Record<string, Level> {
    return { ...this.levels };
  }

  onChange(_listener: (change: AlertChange) => void): () => void {
    return () => undefined;
  }

  stats(): AlertEngineStats {
    return { alertsRaised: this.alerts.size, maxLevel: 'Normal', notificationsSent: 0, notificationsFailed: 0, notificationsPending: 0 };
  }

  start(): void {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }
}

/** An open Siaga alert in area jatinangor, for seeding. */
export function sampleAlert(id: string, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    ruleId: 'cikeruh-muka-air',
    hazard: 'flood',
    areaId: 'jatinangor',
    siteId: 'cikeruh',
    sensorId: 'wl-1',
    level: 'Siaga',
    maxLevel: 'Siaga',
    state: 'open',
    evidence: { value: 170, unit: 'cm', ts: '2025-01-09T08:30:00.000Z', threshold: 160 },
    openedAt: '2025-01-09T08:30:00.000Z',
    updatedAt: '2025-01-09T08:30:00.000Z',
    acknowledgedBy: null,
    acknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    note: null,
    ...overrides,
  };
}
