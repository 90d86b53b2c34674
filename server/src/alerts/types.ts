/**
 * The contract between ingest (which stores readings) and the alert engine (detection,
 * alert lifecycle, notifications). Ingest calls `onStoredReadings` only with readings that
 * were newly committed to the store, after the commit.
 */
import type { Level, Quantity } from '@kentongan/firmware-protocol';

/** A reading as the store committed it. */
export interface StoredReading {
  gatewayId: string;
  sensorId: string;
  epoch: number;
  seq: number;
  quantity: Quantity;
  value: number;
  unit: string;
  /** Event time, UTC ISO. */
  ts: string;
  quality: 'good' | 'suspect';
  /** When the server stored it, UTC ISO. */
  receivedAt: string;
}

export type AlertState = 'open' | 'acknowledged' | 'resolved';

export interface Alert {
  id: string;
  ruleId: string;
  hazard: 'flood' | 'landslide';
  areaId: string;
  siteId: string;
  sensorId: string;
  level: Level;
  /** Highest level this alert reached. */
  maxLevel: Level;
  state: AlertState;
  /** Evidence: the reading(s) that caused the last level change. */
  evidence: { value: number; unit: string; ts: string; threshold: number };
  openedAt: string;
  updatedAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  note: string | null;
}

/** What changed, as emitted to listeners (dashboard, demo output, retained MQTT topic). */
export interface AlertChange {
  alert: Alert;
  change: 'opened' | 'escalated' | 'deescalated' | 'acknowledged' | 'resolved';
  from: Level | null;
  to: Level;
  /** Who did it: `rule:<ruleId>` or an operator name. */
  actor: string;
  at: string;
}

export interface AlertEngineStats {
  alertsRaised: number;
  maxLevel: Level;
  notificationsSent: number;
  notificationsFailed: number;
  notificationsPending: number;
}

export interface AlertEngine {
  /** Evaluate readings just committed (any order; evaluated in `ts` order per sensor). */
  onStoredReadings(readings: readonly StoredReading[]): void;
  acknowledge(alertId: string, by: string, note: string | null): Alert;
  resolve(alertId: string, by: string, note: string | null): Alert;
  listAlerts(filter?: { state?: AlertState | 'active'; areaId?: string; limit?: number }): Alert[];
  getAlert(alertId: string): Alert | undefined;
  /** Current level per area (Normal where nothing is open). */
  areaLevels(): Record<string, Level>;
  onChange(listener: (change: AlertChange) => void): () => void;
  stats(): AlertEngineStats;
  /** Starts the notification dispatcher. */
  start(): void;
  /** Stops the dispatcher after in-flight sends settle. */
  stop(): Promise<void>;
}
