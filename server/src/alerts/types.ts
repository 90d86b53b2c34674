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

/** Who an alert is for: hazard rules warn the public; sensor-health rules only technicians. */
export type AlertAudience = 'public' | 'technician';

/** Bilingual text, Bahasa Indonesia first. */
export interface BilingualText {
  id: string;
  en: string;
}

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
  evidence: {
    value: number;
    unit: string;
    ts: string;
    threshold: number;
    /** What the rule saw, e.g. "naik 32 cm/jam dalam 1 jam / rise of 32 cm/h over 1 h" (issue 4). */
    description?: BilingualText;
  };
  openedAt: string;
  updatedAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  note: string | null;
  /** Issue 4: `technician` for sensor-health alerts (never sent to residents); absent = public. */
  audience?: AlertAudience;
  /**
   * Issue 4: set when the last level change came from late data: how long the deciding reading
   * took to reach the server (received time - event time), ms. Null otherwise.
   */
  lateByMs?: number | null;
}

/** What changed, as emitted to listeners (dashboard, demo output, retained MQTT topic). */
export interface AlertChange {
  alert: Alert;
  /**
   * `unacknowledged` (issue 4): a Siaga/Awas alert nobody acknowledged within
   * `alerts.escalateUnacknowledgedAfterMs`; once per level reached; for responders/on-call staff.
   */
  change: 'opened' | 'escalated' | 'deescalated' | 'acknowledged' | 'resolved' | 'unacknowledged';
  from: Level | null;
  to: Level;
  /** Who did it: `rule:<ruleId>` or an operator name. */
  actor: string;
  at: string;
  /** Issue 4: copy of `alert.audience`; `technician` changes never go to residents. */
  audience?: AlertAudience;
  /** Issue 4: data delay (received - event time, ms) when this change came from late data, else null. */
  lateByMs?: number | null;
  /**
   * Issue 4: "terdeteksi terlambat, data tertunda N menit / detected late, data delayed N minutes"
   * when `lateByMs` is set; messages should carry it.
   */
  lateNotice?: BilingualText | null;
  /**
   * Issue 4: id of the silence (maintenance window) covering the alert's sensor or site. Silenced
   * changes are recorded and audited but the engine queues no notification for them at all.
   */
  silencedBy?: string | null;
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
