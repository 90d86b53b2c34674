/**
 * Local alarm records on disk (table `local_alarms` of the control database) until the server
 * acknowledges them. Each record is committed before anything else happens with it, so a power
 * cut right after a siren started still leaves the record to upload.
 */
import type { LocalAlarm } from '@kentongan/firmware-protocol';
import { controlFileId, type ControlDatabase } from './control-db.ts';

/** A record with its row id (the batch id range). */
export interface StoredAlarm {
  rowId: number;
  alarm: LocalAlarm;
}

export class AlarmStore {
  private readonly fileId: string;
  private readonly insert;
  private readonly assignId;

  constructor(
    private readonly db: ControlDatabase,
    private readonly now: () => Date,
  ) {
    this.fileId = controlFileId(db);
    this.insert = db.prepare('INSERT INTO local_alarms (alarm_json, created_at) VALUES (?, ?)');
    this.assignId = db.prepare('UPDATE local_alarms SET alarm_json = ? WHERE id = ?');
  }

  /** Stores a record (its `alarmId` is assigned here: `<fileId>-<row>`) and returns it. */
  add(alarm: Omit<LocalAlarm, 'alarmId'>): LocalAlarm {
    return this.db.transaction(() => {
      const row = this.insert.run('{}', this.now().toISOString());
      const rowId = Number(row.lastInsertRowid);
      const full: LocalAlarm = { alarmId: `${this.fileId}-${rowId}`, ...alarm };
      this.assignId.run(JSON.stringify(full), rowId);
      return full;
    })();
  }

  /** The oldest records not yet acknowledged, at most `limit`. */
  oldest(limit: number): StoredAlarm[] {
    const rows = this.db.prepare('SELECT id, alarm_json FROM local_alarms ORDER BY id LIMIT ?').all(limit) as Array<{ id: number; alarm_json: string }>;
    return rows.map((r) => ({ rowId: r.id, alarm: JSON.parse(r.alarm_json) as LocalAlarm }));
  }

  /** Removes the acknowledged rows `[first, last]`; returns how many went. */
  remove(first: number, last: number): number {
    return this.db.prepare('DELETE FROM local_alarms WHERE id BETWEEN ? AND ?').run(first, last).changes;
  }

  pending(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM local_alarms').get() as { n: number }).n;
  }
}
