/**
 * Every public alert change becomes one CAP message, recorded in the alert change's own
 * transaction (`cap_messages`, created here): `opened` -> msgType Alert, `escalated` /
 * `deescalated` -> Update, `resolved` -> Cancel (with responseType AllClear). Each message
 * references all earlier messages of the same alert (CAP 1.2 `references`: "sender,identifier,sent"
 * triplets). The XML is rendered on request (cap-xml.ts) from the stored snapshot and the current
 * site geometry; the identifier and `sent` never change.
 * Technician (sensor-health) alerts and internal changes (acknowledged, unacknowledged) are not
 * public and produce no CAP message.
 */
import type Database from 'better-sqlite3';
import type { Level, Quantity } from '@kentongan/firmware-protocol';
import type { Alert } from '../alerts/types.ts';

export type CapMsgType = 'Alert' | 'Update' | 'Cancel';

/** What a CAP message is made from (snapshot at the change). */
export interface CapRecord {
  seq: number;
  identifier: string;
  alertId: string;
  msgType: CapMsgType;
  /** UTC ISO of the change (rendered as `+07:00` local time in XML). */
  sent: string;
  change: 'opened' | 'escalated' | 'deescalated' | 'resolved';
  from: Level | null;
  to: Level;
  alert: Alert;
  siteName: string;
  areaName: string;
  quantity?: Quantity | undefined;
  sender: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cap_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  identifier TEXT NOT NULL UNIQUE,
  alert_id TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  sent TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cap_messages_alert ON cap_messages(alert_id, seq);
`;

const MSG_TYPE: Record<CapRecord['change'], CapMsgType> = {
  opened: 'Alert',
  escalated: 'Update',
  deescalated: 'Update',
  resolved: 'Cancel',
};

export function isCapChange(change: string): change is CapRecord['change'] {
  return change in MSG_TYPE;
}

export class CapLog {
  private readonly s;

  constructor(db: Database.Database) {
    db.exec(SCHEMA);
    this.s = {
      insert: db.prepare(`INSERT OR IGNORE INTO cap_messages (identifier, alert_id, msg_type, sent, record) VALUES (?, ?, ?, ?, ?)`),
      count: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM cap_messages WHERE alert_id = ?`),
      byAlert: db.prepare<[string], { seq: number; record: string }>(`SELECT seq, record FROM cap_messages WHERE alert_id = ? ORDER BY seq`),
      byIdentifier: db.prepare<[string], { seq: number; record: string }>(`SELECT seq, record FROM cap_messages WHERE identifier = ?`),
      latestPerAlert: db.prepare<[number], { seq: number; record: string }>(
        `SELECT seq, record FROM cap_messages WHERE seq IN (SELECT MAX(seq) FROM cap_messages GROUP BY alert_id) ORDER BY seq DESC LIMIT ?`,
      ),
    };
  }

  /** Records the CAP message of a change (call inside the change's transaction). */
  record(input: Omit<CapRecord, 'seq' | 'identifier' | 'msgType'>): void {
    const n = this.s.count.get(input.alertId)!.n + 1;
    // Identifier: no spaces, commas or "<&" (CAP 1.2); alert ids are UUIDs or config-like ids.
    const identifier = `kentongan-${input.alertId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${n}`;
    const msgType = MSG_TYPE[input.change];
    const rec: Omit<CapRecord, 'seq'> = { ...input, identifier, msgType };
    this.s.insert.run(identifier, input.alertId, msgType, input.sent, JSON.stringify(rec));
  }

  /** Messages of one alert, oldest first. */
  forAlert(alertId: string): CapRecord[] {
    return this.s.byAlert.all(alertId).map(parse);
  }

  byIdentifier(identifier: string): CapRecord | undefined {
    const row = this.s.byIdentifier.get(identifier);
    return row ? parse(row) : undefined;
  }

  /** The latest message of each alert, newest first (the feed). */
  latestPerAlert(limit: number): CapRecord[] {
    return this.s.latestPerAlert.all(limit).map(parse);
  }
}

function parse(row: { seq: number; record: string }): CapRecord {
  return { ...(JSON.parse(row.record) as Omit<CapRecord, 'seq'>), seq: row.seq };
}
