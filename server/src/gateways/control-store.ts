/**
 * What the server keeps about each gateway's control plane, in its own tables of the server
 * database (created here with CREATE TABLE IF NOT EXISTS, apart from the numbered migrations):
 * - `gateway_config_desired`: the config the operators want a gateway to run, with its version;
 * - `gateway_config_status`: what the gateway last said it runs (`config-status`), or refused;
 * - `edge_alarms`: local alarm records the gateways uploaded, once per (gateway, alarmId).
 */
import type Database from 'better-sqlite3';
import type { ConfigStatus, LocalAlarm } from '@kentongan/firmware-protocol';

export interface DesiredConfig {
  gatewayId: string;
  version: number;
  config: Record<string, unknown>;
  issuedAt: string;
}

export interface AppliedStatus {
  appliedVersion: number;
  refusedVersion: number | null;
  error: string | null;
  ts: string;
  receivedAt: string;
}

export interface EdgeAlarmRow {
  gatewayId: string;
  alarm: LocalAlarm;
  receivedAt: string;
}

export class GatewayControlStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS gateway_config_desired (
        gateway_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        config_json TEXT NOT NULL,
        issued_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS gateway_config_status (
        gateway_id TEXT PRIMARY KEY,
        applied_version INTEGER NOT NULL,
        refused_version INTEGER,
        error TEXT,
        ts TEXT NOT NULL,
        received_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS edge_alarms (
        gateway_id TEXT NOT NULL,
        alarm_id TEXT NOT NULL,
        at TEXT NOT NULL,
        alarm_json TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (gateway_id, alarm_id)
      );
      CREATE INDEX IF NOT EXISTS edge_alarms_at ON edge_alarms (at);
    `);
  }

  /** Stores a new desired config with the next version (1 for the first) and returns it. */
  setDesired(gatewayId: string, config: Record<string, unknown>, issuedAt: string): DesiredConfig {
    return this.db.transaction(() => {
      const prev = this.getDesired(gatewayId);
      // Above both the last desired and the last applied: a gateway that kept a version from an
      // earlier server database would refuse a lower one as a replay.
      const applied = this.getStatus(gatewayId)?.appliedVersion ?? 0;
      const version = Math.max(prev?.version ?? 0, applied) + 1;
      this.db
        .prepare(
          `INSERT INTO gateway_config_desired (gateway_id, version, config_json, issued_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (gateway_id) DO UPDATE SET version = excluded.version, config_json = excluded.config_json, issued_at = excluded.issued_at`,
        )
        .run(gatewayId, version, JSON.stringify(config), issuedAt);
      return { gatewayId, version, config, issuedAt };
    })();
  }

  getDesired(gatewayId: string): DesiredConfig | null {
    const row = this.db.prepare('SELECT version, config_json, issued_at FROM gateway_config_desired WHERE gateway_id = ?').get(gatewayId) as
      | { version: number; config_json: string; issued_at: string }
      | undefined;
    return row ? { gatewayId, version: row.version, config: JSON.parse(row.config_json) as Record<string, unknown>, issuedAt: row.issued_at } : null;
  }

  allDesired(): DesiredConfig[] {
    const rows = this.db.prepare('SELECT gateway_id FROM gateway_config_desired ORDER BY gateway_id').all() as Array<{ gateway_id: string }>;
    return rows.flatMap((r) => this.getDesired(r.gateway_id) ?? []);
  }

  setStatus(gatewayId: string, s: ConfigStatus, receivedAt: string): void {
    this.db
      .prepare(
        `INSERT INTO gateway_config_status (gateway_id, applied_version, refused_version, error, ts, received_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (gateway_id) DO UPDATE SET applied_version = excluded.applied_version, refused_version = excluded.refused_version,
           error = excluded.error, ts = excluded.ts, received_at = excluded.received_at`,
      )
      .run(gatewayId, s.appliedVersion, s.refusedVersion ?? null, s.error ?? null, s.ts, receivedAt);
  }

  getStatus(gatewayId: string): AppliedStatus | null {
    const row = this.db.prepare('SELECT applied_version, refused_version, error, ts, received_at FROM gateway_config_status WHERE gateway_id = ?').get(gatewayId) as
      | { applied_version: number; refused_version: number | null; error: string | null; ts: string; received_at: string }
      | undefined;
    return row ? { appliedVersion: row.applied_version, refusedVersion: row.refused_version, error: row.error, ts: row.ts, receivedAt: row.received_at } : null;
  }

  /** Inserts the records in one transaction; returns how many were new (the rest are duplicates). */
  addAlarms(gatewayId: string, alarms: readonly LocalAlarm[], receivedAt: string): number {
    const insert = this.db.prepare('INSERT OR IGNORE INTO edge_alarms (gateway_id, alarm_id, at, alarm_json, received_at) VALUES (?, ?, ?, ?, ?)');
    return this.db.transaction(() => {
      let stored = 0;
      for (const a of alarms) stored += insert.run(gatewayId, a.alarmId, a.at, JSON.stringify(a), receivedAt).changes;
      return stored;
    })();
  }

  /** Newest first; optionally one gateway and a time range on the alarm's event time. */
  listAlarms(q: { gatewayId?: string; from?: string; to?: string; limit: number }): EdgeAlarmRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.gatewayId) {
      where.push('gateway_id = ?');
      args.push(q.gatewayId);
    }
    if (q.from) {
      where.push('at >= ?');
      args.push(q.from);
    }
    if (q.to) {
      where.push('at < ?');
      args.push(q.to);
    }
    const sql = `SELECT gateway_id, alarm_json, received_at FROM edge_alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, alarm_id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as Array<{ gateway_id: string; alarm_json: string; received_at: string }>;
    return rows.map((r) => ({ gatewayId: r.gateway_id, alarm: JSON.parse(r.alarm_json) as LocalAlarm, receivedAt: r.received_at }));
  }
}
