/**
 * Last status (birth/will) and health message of each gateway, kept in SQLite so that the API
 * still shows a gateway's last known health after a server restart. Payloads are stored as the
 * validated JSON they arrived as.
 */
import type Database from 'better-sqlite3';
import type { GatewayHealth, GatewayStatus } from '@kentongan/firmware-protocol';

/** What the server last heard from one gateway. */
export interface GatewayStateRecord {
  gatewayId: string;
  status: GatewayStatus | null;
  statusReceivedAt: string | null;
  health: GatewayHealth | null;
  healthReceivedAt: string | null;
}

interface Row {
  gateway_id: string;
  status_json: string | null;
  status_received_ms: number | null;
  health_json: string | null;
  health_received_ms: number | null;
}

export class GatewayStateStore {
  private readonly putStatus: Database.Statement<[string, string, number]>;
  private readonly putHealth: Database.Statement<[string, string, number]>;
  private readonly all: Database.Statement<[], Row>;

  constructor(db: Database.Database) {
    this.putStatus = db.prepare(
      `INSERT INTO gateway_state (gateway_id, status_json, status_received_ms) VALUES (?, ?, ?)
       ON CONFLICT (gateway_id) DO UPDATE SET status_json = excluded.status_json,
         status_received_ms = excluded.status_received_ms`,
    );
    this.putHealth = db.prepare(
      `INSERT INTO gateway_state (gateway_id, health_json, health_received_ms) VALUES (?, ?, ?)
       ON CONFLICT (gateway_id) DO UPDATE SET health_json = excluded.health_json,
         health_received_ms = excluded.health_received_ms`,
    );
    this.all = db.prepare('SELECT * FROM gateway_state ORDER BY gateway_id');
  }

  recordStatus(status: GatewayStatus, receivedAt: Date): void {
    this.putStatus.run(status.gatewayId, JSON.stringify(status), receivedAt.getTime());
  }

  recordHealth(health: GatewayHealth, receivedAt: Date): void {
    this.putHealth.run(health.gatewayId, JSON.stringify(health), receivedAt.getTime());
  }

  /** Every gateway the server has heard from, by id. */
  list(): Map<string, GatewayStateRecord> {
    const out = new Map<string, GatewayStateRecord>();
    for (const r of this.all.all()) {
      out.set(r.gateway_id, {
        gatewayId: r.gateway_id,
        status: r.status_json ? (JSON.parse(r.status_json) as GatewayStatus) : null,
        statusReceivedAt: r.status_received_ms === null ? null : new Date(r.status_received_ms).toISOString(),
        health: r.health_json ? (JSON.parse(r.health_json) as GatewayHealth) : null,
        healthReceivedAt: r.health_received_ms === null ? null : new Date(r.health_received_ms).toISOString(),
      });
    }
    return out;
  }
}
