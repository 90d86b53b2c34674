/**
 * Keeps reading timestamps monotonic per sensor, across reboots and a clock that went back.
 *
 * The gateway stamps each reading with its own clock when the frame arrives. A Raspberry Pi has
 * no battery-backed clock: after a power cut it may start on a stale time until NTP syncs, or
 * NTP may step the clock back. A new reading must then not carry a time older than readings
 * already issued for the same sensor (the server's charts, rate-of-change rules and "latest
 * value" would go wrong). Decision: CLAMP AND FLAG. A timestamp earlier than the last one issued
 * for its sensor is raised to that last one (readings keep their order; equal times are allowed),
 * the reading is counted in `clamped`, and a warning is logged (at most once a minute). The
 * reading's value and key are unchanged, so nothing is lost or stored twice.
 *
 * The last issued time per sensor is stored in SQLite (table `sensor_clock`) in the same
 * transaction as the readings, so the rule holds across restarts.
 */
import type { Reading } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { GatewayDatabase } from './database.ts';

const WARN_INTERVAL_MS = 60_000;

export class SensorClock {
  /** Readings whose timestamp was raised since this process started. */
  clamped = 0;
  /** Largest step back seen (ms) since start; 0 when the clock never went back. */
  largestStepBackMs = 0;
  private readonly last = new Map<string, number>();
  private readonly upsert;
  private lastWarnMs = -Infinity;

  constructor(
    db: GatewayDatabase,
    private readonly logger?: Logger,
  ) {
    const rows = db.prepare('SELECT sensor_id, last_ts_ms FROM sensor_clock').all() as { sensor_id: string; last_ts_ms: number }[];
    for (const r of rows) this.last.set(r.sensor_id, r.last_ts_ms);
    this.upsert = db.prepare(
      `INSERT INTO sensor_clock (sensor_id, last_ts_ms) VALUES (?, ?)
       ON CONFLICT (sensor_id) DO UPDATE SET last_ts_ms = excluded.last_ts_ms`,
    );
  }

  /** The latest timestamp issued for any sensor (ms), or null when none was ever issued. */
  latestIssuedMs(): number | null {
    let max: number | null = null;
    for (const t of this.last.values()) if (max === null || t > max) max = t;
    return max;
  }

  /**
   * Returns the readings with clamped timestamps and the per-sensor times to persist and apply.
   * Pure apart from counters; call `persist` inside the transaction and `apply` after it.
   */
  stamp(readings: readonly Reading[]): { readings: Reading[]; updates: Map<string, number> } {
    const updates = new Map<string, number>();
    const out: Reading[] = [];
    let stepBack = 0;
    let clampedNow = 0;
    for (const r of readings) {
      const t = Date.parse(r.ts);
      const floor = updates.get(r.sensorId) ?? this.last.get(r.sensorId);
      if (floor !== undefined && Number.isFinite(t) && t < floor) {
        stepBack = Math.max(stepBack, floor - t);
        clampedNow++;
        out.push({ ...r, ts: new Date(floor).toISOString() });
        updates.set(r.sensorId, floor);
      } else {
        out.push(r);
        if (Number.isFinite(t)) updates.set(r.sensorId, Math.max(t, floor ?? t));
      }
    }
    if (clampedNow > 0) this.flag(clampedNow, stepBack);
    return { readings: out, updates };
  }

  persist(updates: ReadonlyMap<string, number>): void {
    for (const [id, t] of updates) this.upsert.run(id, t);
  }

  apply(updates: ReadonlyMap<string, number>): void {
    for (const [id, t] of updates) this.last.set(id, t);
  }

  private flag(n: number, stepBackMs: number): void {
    this.clamped += n;
    this.largestStepBackMs = Math.max(this.largestStepBackMs, stepBackMs);
    const now = Date.now();
    if (now - this.lastWarnMs < WARN_INTERVAL_MS) return;
    this.lastWarnMs = now;
    this.logger?.warn(
      { clampedNow: n, clampedTotal: this.clamped, stepBackS: stepBackMs / 1000 },
      'gateway clock went back: reading timestamps held at the last issued time (clamped and counted)',
    );
  }
}
