/**
 * Last tip-counter value seen per (sensor, tipping-bucket channel), kept in SQLite so that a
 * gateway restart does not count the same tips twice. Written in the same transaction as the
 * readings computed from it.
 */
import type { GatewayDatabase } from './database.ts';

export interface TipUpdate {
  sensorId: string;
  channel: string;
  counter: number;
}

export class TipCounters {
  private readonly last = new Map<string, number>();
  private readonly upsert;

  constructor(db: GatewayDatabase) {
    const rows = db.prepare('SELECT sensor_id, channel, last_counter FROM tip_counter').all() as {
      sensor_id: string;
      channel: string;
      last_counter: number;
    }[];
    for (const r of rows) this.last.set(key(r.sensor_id, r.channel), r.last_counter);
    this.upsert = db.prepare(
      `INSERT INTO tip_counter (sensor_id, channel, last_counter) VALUES (?, ?, ?)
       ON CONFLICT (sensor_id, channel) DO UPDATE SET last_counter = excluded.last_counter`,
    );
  }

  /** The previous counter of this gauge, or undefined if it was never seen. */
  get(sensorId: string, channel: string): number | undefined {
    return this.last.get(key(sensorId, channel));
  }

  persist(updates: readonly TipUpdate[]): void {
    for (const u of updates) this.upsert.run(u.sensorId, u.channel, u.counter);
  }

  apply(updates: readonly TipUpdate[]): void {
    for (const u of updates) this.last.set(key(u.sensorId, u.channel), u.counter);
  }
}

// Sensor ids cannot contain a NUL, so the pair maps to one string without ambiguity.
const key = (sensorId: string, channel: string) => `${sensorId}\u0000${channel}`;
