/**
 * Stored history for the backtest, streamed in event-time order without loading it: one cursor
 * per (sensor, quantity) reads pages along the `readings_by_time` index (keyset pagination on
 * `ts_ms, id`), and a k-way merge hands out the globally oldest reading next. Memory is one page
 * per series, whatever the length of the window.
 */
import type Database from 'better-sqlite3';
import type { Quantity, RuleReading } from '@kentongan/firmware-protocol';

const PAGE = 1000;

interface Row {
  id: number;
  value: number;
  unit: string;
  ts_ms: number;
  quality: string;
}

class SeriesCursor {
  private rows: Row[] = [];
  private i = 0;
  private lastTs: number;
  private lastId = -1;
  done = false;

  constructor(
    private readonly stmt: Database.Statement<[string, string, number, number, number, number, number], Row>,
    readonly sensorId: string,
    readonly quantity: Quantity,
    fromMs: number,
    private readonly toMs: number,
  ) {
    this.lastTs = fromMs - 1;
    this.lastId = Number.MAX_SAFE_INTEGER;
    this.fill();
  }

  private fill(): void {
    this.rows = this.stmt.all(this.sensorId, this.quantity, this.lastTs, this.lastTs, this.lastId, this.toMs, PAGE);
    this.i = 0;
    if (this.rows.length === 0) this.done = true;
  }

  peekTs(): number {
    return this.rows[this.i]!.ts_ms;
  }

  next(): RuleReading {
    const r = this.rows[this.i++]!;
    this.lastTs = r.ts_ms;
    this.lastId = r.id;
    if (this.i >= this.rows.length) this.fill();
    return { sensorId: this.sensorId, quantity: this.quantity, value: r.value, unit: r.unit, tsMs: r.ts_ms, quality: r.quality === 'suspect' ? 'suspect' : 'good' };
  }
}

/** The (sensor, quantity) series stored for the given sensors. */
export function seriesOf(db: Database.Database, sensorIds: readonly string[]): { sensorId: string; quantity: Quantity }[] {
  const stmt = db.prepare<[string], { quantity: string }>('SELECT quantity FROM latest_readings WHERE sensor_id = ?');
  return sensorIds.flatMap((sensorId) => stmt.all(sensorId).map((r) => ({ sensorId, quantity: r.quantity as Quantity })));
}

/** Readings of the given series in [fromMs, toMs], oldest first, in chunks of up to `chunk`. */
export function* mergedHistory(
  db: Database.Database,
  series: readonly { sensorId: string; quantity: Quantity }[],
  fromMs: number,
  toMs: number,
  chunk = 500,
): Generator<RuleReading[]> {
  const stmt = db.prepare<[string, string, number, number, number, number, number], Row>(
    `SELECT id, value, unit, ts_ms, quality FROM readings
     WHERE sensor_id = ? AND quantity = ? AND (ts_ms > ? OR (ts_ms = ? AND id > ?)) AND ts_ms <= ?
     ORDER BY ts_ms, id LIMIT ?`,
  );
  const cursors = series.map((s) => new SeriesCursor(stmt, s.sensorId, s.quantity, fromMs, toMs)).filter((c) => !c.done);
  let out: RuleReading[] = [];
  while (cursors.length > 0) {
    // Few series per rule set (tens): a linear scan for the oldest beats a heap in clarity.
    let best = 0;
    for (let i = 1; i < cursors.length; i++) if (cursors[i]!.peekTs() < cursors[best]!.peekTs()) best = i;
    const c = cursors[best]!;
    out.push(c.next());
    if (c.done) cursors.splice(best, 1);
    if (out.length >= chunk) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}
