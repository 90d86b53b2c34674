/**
 * Silences (maintenance windows) per sensor or site, with an expiry. A silence never stops
 * detection: rules keep evaluating, alerts keep being recorded and audited. What it suppresses
 * while it covers an alert's sensor or site (see README "Silencing"):
 * - every notification of the alert's changes (no outbox row for any channel or person, no CAP),
 * - the alert's weight in the area level published for sirens and displays.
 *
 * The table keeps who created and who ended each silence and when: it is its own audit trail.
 * Active silences are cached in memory (there are few); expiry is judged against the clock.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ID_PATTERN } from '@kentongan/firmware-protocol';
import { AlertInputError, SilenceNotFoundError } from './errors.ts';
import { checkActor, checkNote } from './operator-input.ts';

export type SilenceScope = 'sensor' | 'site';

/** One silence; `endedAt` is set when an operator ends it early. */
export interface Silence {
  id: string;
  scope: SilenceScope;
  targetId: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  endedBy: string | null;
  endedAt: string | null;
}

export interface NewSilence {
  scope: SilenceScope;
  targetId: string;
  /** Until when, UTC ISO; at most `MAX_SILENCE_MS` after now. */
  expiresAt: string;
  reason: string | null;
  by: string;
}

/** A maintenance window longer than 30 days is a decommissioning, not a silence. */
export const MAX_SILENCE_MS = 30 * 86_400_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_silences (
  id TEXT PRIMARY KEY,
  scope TEXT NOT NULL CHECK (scope IN ('sensor', 'site')),
  target_id TEXT NOT NULL,
  reason TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ended_by TEXT,
  ended_at TEXT
);
CREATE INDEX IF NOT EXISTS alert_silences_expiry ON alert_silences(expires_at);
`;

interface Row {
  id: string;
  scope: string;
  target_id: string;
  reason: string | null;
  created_by: string;
  created_at: string;
  expires_at: string;
  ended_by: string | null;
  ended_at: string | null;
}

function fromRow(r: Row): Silence {
  return {
    id: r.id,
    scope: r.scope === 'site' ? 'site' : 'sensor',
    targetId: r.target_id,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    endedBy: r.ended_by,
    endedAt: r.ended_at,
  };
}

export class SilenceStore {
  private active: Silence[] = [];

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.reload();
  }

  /** Re-reads the silences that have not ended (expired ones are filtered at use). */
  reload(): void {
    this.active = this.db
      .prepare<[], Row>('SELECT * FROM alert_silences WHERE ended_at IS NULL ORDER BY created_at')
      .all()
      .map(fromRow);
  }

  /** The silence covering any of the sensors or the site at `nowMs`, or null. */
  covering(sensorIds: readonly string[], siteId: string, nowMs: number): Silence | null {
    for (const s of this.active) {
      if (Date.parse(s.expiresAt) <= nowMs) continue;
      if (s.scope === 'site' ? s.targetId === siteId : sensorIds.includes(s.targetId)) return s;
    }
    return null;
  }

  /** Validates and stores a silence; throws `AlertInputError` on unusable input. */
  create(input: NewSilence, now: Date): Silence {
    const by = checkActor(input.by);
    const reason = checkNote(input.reason);
    if (input.scope !== 'sensor' && input.scope !== 'site') throw new AlertInputError('scope must be "sensor" or "site"');
    if (typeof input.targetId !== 'string' || !ID_PATTERN.test(input.targetId)) throw new AlertInputError('targetId must be a valid id');
    const expiresMs = typeof input.expiresAt === 'string' ? Date.parse(input.expiresAt) : NaN;
    if (!Number.isFinite(expiresMs)) throw new AlertInputError('expiresAt must be an ISO time');
    if (expiresMs <= now.getTime()) throw new AlertInputError('expiresAt must be in the future');
    if (expiresMs - now.getTime() > MAX_SILENCE_MS) throw new AlertInputError('a silence may last at most 30 days');
    const silence: Silence = {
      id: randomUUID(),
      scope: input.scope,
      targetId: input.targetId,
      reason,
      createdBy: by,
      createdAt: now.toISOString(),
      expiresAt: new Date(expiresMs).toISOString(),
      endedBy: null,
      endedAt: null,
    };
    this.db
      .prepare(
        `INSERT INTO alert_silences (id, scope, target_id, reason, created_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(silence.id, silence.scope, silence.targetId, silence.reason, silence.createdBy, silence.createdAt, silence.expiresAt);
    this.reload();
    return silence;
  }

  /** Ends a silence early (kept in the table with who ended it). */
  end(id: string, by: string, now: Date): Silence {
    const actor = checkActor(by);
    const row = typeof id === 'string' ? this.db.prepare<[string], Row>('SELECT * FROM alert_silences WHERE id = ?').get(id) : undefined;
    if (!row) throw new SilenceNotFoundError(String(id));
    if (row.ended_at === null) {
      this.db.prepare('UPDATE alert_silences SET ended_by = ?, ended_at = ? WHERE id = ?').run(actor, now.toISOString(), id);
      this.reload();
    }
    return fromRow(this.db.prepare<[string], Row>('SELECT * FROM alert_silences WHERE id = ?').get(id)!);
  }

  /** Silences, newest first: active ones (not ended, not expired) or all (bounded). */
  list(filter: { all?: boolean; limit?: number }, nowMs: number): Silence[] {
    const limit = Math.min(Math.max(1, filter.limit ?? 100), 1000);
    if (!filter.all) return this.active.filter((s) => Date.parse(s.expiresAt) > nowMs).reverse().slice(0, limit);
    return this.db
      .prepare<[number], Row>('SELECT * FROM alert_silences ORDER BY created_at DESC, rowid DESC LIMIT ?')
      .all(limit)
      .map(fromRow);
  }
}
