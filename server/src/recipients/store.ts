/**
 * Recipients in SQLite: residents (subscribed through the API, per area and channel, confirmed
 * with a code sent on that channel) and staff (operators, responders, village heads, technicians,
 * synced from config at start). Stored minimal: a resident row holds only a random id, channel,
 * normalised address, language and areas; leaving deletes the row.
 *
 * Tables are created here (CREATE TABLE IF NOT EXISTS; the storage migrations' user_version is not
 * touched). The settings the notifier needs at fan-out time (area parents, delivery pacing, who
 * signs) are synced into `notify_settings` too, so the alert engine can build the notifier from
 * the database alone.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ServerConfig } from '../config/schema.ts';
import { normalizeAddress } from './address.ts';
import { RecipientError } from './errors.ts';

export type Role = 'resident' | 'operator' | 'responder' | 'village_head' | 'technician';
export type Language = 'id' | 'en' | 'su';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS notify_recipients (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('resident', 'staff')),
  role TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  address TEXT NOT NULL,
  language TEXT NOT NULL,
  escalation_order INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
  pending_areas TEXT,
  code_hash TEXT,
  code_expires_at INTEGER,
  code_attempts INTEGER NOT NULL DEFAULT 0,
  codes_sent INTEGER NOT NULL DEFAULT 0,
  codes_window_start INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  confirmed_at TEXT,
  UNIQUE (kind, channel_id, address)
);
CREATE INDEX IF NOT EXISTS notify_recipients_address ON notify_recipients(address);
CREATE TABLE IF NOT EXISTS notify_recipient_areas (
  recipient_id TEXT NOT NULL REFERENCES notify_recipients(id) ON DELETE CASCADE,
  area_id TEXT NOT NULL,
  PRIMARY KEY (recipient_id, area_id)
);
CREATE INDEX IF NOT EXISTS notify_recipient_areas_area ON notify_recipient_areas(area_id, recipient_id);
CREATE TABLE IF NOT EXISTS notify_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** All areas, for staff without `areaIds`. */
export const ALL_AREAS = '*';
/** Wrong code attempts before a new code must be requested. */
export const MAX_CODE_ATTEMPTS = 5;
/** Codes sent per address and hour (against using the API to spam someone's phone). */
export const MAX_CODES_PER_HOUR = 3;

/** A recipient as the API shows it (address masked by the route). */
export interface RecipientView {
  id: string;
  kind: 'resident' | 'staff';
  role: Role;
  channelId: string;
  address: string;
  language: Language;
  status: 'pending' | 'active';
  areaIds: string[];
  escalationOrder: number;
  createdAt: string;
  confirmedAt: string | null;
}

/** One recipient picked for a fan-out. */
export interface Target {
  id: string;
  role: Role;
  channelId: string;
  language: Language;
}

/** Settings the notifier and dispatcher read (synced from config). */
export interface NotifySettings {
  /** area id -> parent area id (desa -> kecamatan -> kabupaten). */
  areaParents: Record<string, string>;
  delivery: ServerConfig['notify']['delivery'] | null;
  sender: string;
  confirmTtlMinutes: number;
}

interface RecipientRow {
  id: string;
  kind: 'resident' | 'staff';
  role: Role;
  channel_id: string;
  address: string;
  language: Language;
  escalation_order: number;
  status: 'pending' | 'active';
  pending_areas: string | null;
  code_hash: string | null;
  code_expires_at: number | null;
  code_attempts: number;
  codes_sent: number;
  codes_window_start: number;
  created_at: string;
  confirmed_at: string | null;
}

function hashCode(recipientId: string, code: string): string {
  return createHash('sha256').update(`${recipientId}:${code}`).digest('hex');
}

export class RecipientStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.s = {
      byId: db.prepare<[string], RecipientRow>(`SELECT * FROM notify_recipients WHERE id = ?`),
      byAddress: db.prepare<[string, string, string], RecipientRow>(
        `SELECT * FROM notify_recipients WHERE kind = ? AND channel_id = ? AND address = ?`,
      ),
      areasOf: db.prepare<[string], { area_id: string }>(`SELECT area_id FROM notify_recipient_areas WHERE recipient_id = ? ORDER BY area_id`),
      insert: db.prepare(
        `INSERT INTO notify_recipients (id, kind, role, channel_id, address, language, escalation_order, status, created_at)
         VALUES (@id, @kind, @role, @channelId, @address, @language, @escalationOrder, @status, @createdAt)`,
      ),
      addArea: db.prepare(`INSERT OR IGNORE INTO notify_recipient_areas (recipient_id, area_id) VALUES (?, ?)`),
      clearAreas: db.prepare(`DELETE FROM notify_recipient_areas WHERE recipient_id = ?`),
      delete: db.prepare<[string], unknown>(`DELETE FROM notify_recipients WHERE id = ?`),
      deleteResidentsByAddress: db.prepare<[string], unknown>(`DELETE FROM notify_recipients WHERE kind = 'resident' AND address = ?`),
      setCode: db.prepare(
        `UPDATE notify_recipients SET code_hash = ?, code_expires_at = ?, code_attempts = 0, pending_areas = ?, language = ?,
           codes_sent = ?, codes_window_start = ? WHERE id = ?`,
      ),
      failedAttempt: db.prepare(`UPDATE notify_recipients SET code_attempts = code_attempts + 1 WHERE id = ?`),
      confirm: db.prepare(
        `UPDATE notify_recipients SET status = 'active', confirmed_at = ?, code_hash = NULL, code_expires_at = NULL,
           code_attempts = 0, pending_areas = NULL WHERE id = ?`,
      ),
      staffIds: db.prepare<[], { id: string }>(`SELECT id FROM notify_recipients WHERE kind = 'staff'`),
      upsertStaff: db.prepare(
        `INSERT INTO notify_recipients (id, kind, role, channel_id, address, language, escalation_order, status, created_at, confirmed_at)
         VALUES (@id, 'staff', @role, @channelId, @address, @language, @escalationOrder, 'active', @createdAt, @createdAt)
         ON CONFLICT(id) DO UPDATE SET role = excluded.role, channel_id = excluded.channel_id, address = excluded.address,
           language = excluded.language, escalation_order = excluded.escalation_order`,
      ),
      list: db.prepare<[string, number, number], RecipientRow>(
        `SELECT * FROM notify_recipients WHERE kind = ? ORDER BY created_at, id LIMIT ? OFFSET ?`,
      ),
      counts: db.prepare<[], { kind: string; status: string; n: number }>(
        `SELECT kind, status, COUNT(*) AS n FROM notify_recipients GROUP BY kind, status`,
      ),
      residentsIn: db.prepare<[string], Target>(
        `SELECT DISTINCT r.id, r.role, r.channel_id AS channelId, r.language FROM notify_recipient_areas a
         JOIN notify_recipients r ON r.id = a.recipient_id
         WHERE r.kind = 'resident' AND r.status = 'active' AND a.area_id IN (SELECT value FROM json_each(?))`,
      ),
      staffIn: db.prepare<[string, string, number], Target>(
        `SELECT DISTINCT r.id, r.role, r.channel_id AS channelId, r.language FROM notify_recipient_areas a
         JOIN notify_recipients r ON r.id = a.recipient_id
         WHERE r.kind = 'staff' AND r.role IN (SELECT value FROM json_each(?))
           AND (a.area_id = '${ALL_AREAS}' OR a.area_id IN (SELECT value FROM json_each(?))) AND r.escalation_order <= ?`,
      ),
      address: db.prepare<[string], { address: string; language: Language }>(
        `SELECT address, language FROM notify_recipients WHERE id = ?`,
      ),
      channelsWithRecipients: db.prepare<[], { channel_id: string }>(`SELECT DISTINCT channel_id FROM notify_recipients`),
      getSetting: db.prepare<[string], { value: string }>(`SELECT value FROM notify_settings WHERE key = ?`),
      putSetting: db.prepare(`INSERT INTO notify_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
    };
  }

  /**
   * Syncs staff and notify settings from config (at server start, before the engine). Staff
   * rows no longer in config are deleted; their queued messages are then cancelled at send time.
   */
  syncFromConfig(config: ServerConfig, now: Date): void {
    const kinds = new Map(config.notify.channels.map((c) => [c.id, c.kind as string]));
    const staff = config.recipients.staff.map((p, i) => {
      const kind = kinds.get(p.channelId);
      if (kind === undefined) throw new RecipientError('UNKNOWN_CHANNEL', `recipients.staff.${i}.channelId: unknown channel "${p.channelId}"`);
      let address: string;
      try {
        address = normalizeAddress(kind, p.address);
      } catch (err) {
        throw new RecipientError((err as RecipientError).code, `recipients.staff.${i}.address: ${(err as Error).message}`, { cause: err });
      }
      return { ...p, address, recipientId: `s-${p.id}` };
    });
    const settings: NotifySettings = {
      areaParents: Object.fromEntries(config.areas.flatMap((a) => (a.parentId ? [[a.id, a.parentId]] : []))),
      delivery: config.notify.delivery,
      sender: config.notify.sender,
      confirmTtlMinutes: config.recipients.confirmTtlMinutes,
    };
    this.db.transaction(() => {
      const keep = new Set(staff.map((p) => p.recipientId));
      for (const { id } of this.s.staffIds.all()) if (!keep.has(id)) this.s.delete.run(id);
      for (const p of staff) {
        this.s.upsertStaff.run({
          id: p.recipientId,
          role: p.role,
          channelId: p.channelId,
          address: p.address,
          language: p.language,
          escalationOrder: p.escalationOrder,
          createdAt: now.toISOString(),
        });
        this.s.clearAreas.run(p.recipientId);
        for (const area of p.areaIds.length > 0 ? p.areaIds : [ALL_AREAS]) this.s.addArea.run(p.recipientId, area);
      }
      this.s.putSetting.run('settings', JSON.stringify(settings));
    })();
  }

  settings(): NotifySettings | null {
    const row = this.s.getSetting.get('settings');
    return row ? (JSON.parse(row.value) as NotifySettings) : null;
  }

  /**
   * Starts (or restarts) a resident's subscription: stores the wanted areas as pending and returns
   * a fresh 6-digit code to send on the channel. The areas apply only once the code is confirmed.
   */
  requestSubscription(
    req: { channelId: string; channelKind: string; address: unknown; areaIds: string[]; language: Language },
    now: Date,
    ttlMinutes: number,
  ): { recipient: RecipientView; code: string } {
    const address = normalizeAddress(req.channelKind, req.address);
    return this.db.transaction(() => {
      let row = this.s.byAddress.get('resident', req.channelId, address);
      if (!row) {
        const id = `r-${randomBytes(8).toString('hex')}`;
        this.s.insert.run({
          id,
          kind: 'resident',
          role: 'resident',
          channelId: req.channelId,
          address,
          language: req.language,
          escalationOrder: 1,
          status: 'pending',
          createdAt: now.toISOString(),
        });
        row = this.s.byId.get(id)!;
      }
      const nowMs = now.getTime();
      const inWindow = nowMs - row.codes_window_start < 3600_000;
      const sent = inWindow ? row.codes_sent : 0;
      if (sent >= MAX_CODES_PER_HOUR) {
        throw new RecipientError('TOO_MANY_REQUESTS', 'terlalu banyak kode diminta, coba lagi nanti / too many codes requested, try later');
      }
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      this.s.setCode.run(
        hashCode(row.id, code),
        nowMs + ttlMinutes * 60_000,
        JSON.stringify([...new Set(req.areaIds)]),
        req.language,
        sent + 1,
        inWindow ? row.codes_window_start : nowMs,
        row.id,
      );
      return { recipient: this.view(this.s.byId.get(row.id)!), code };
    })();
  }

  /** Checks the code; on success the pending areas become the subscription. */
  confirm(recipientId: string, code: unknown, now: Date): RecipientView {
    const row = typeof recipientId === 'string' ? this.s.byId.get(recipientId) : undefined;
    if (!row || row.kind !== 'resident') throw unknownSubscription(String(recipientId));
    if (row.code_hash === null || row.code_expires_at === null) {
      throw new RecipientError('CODE_EXPIRED', 'tidak ada kode yang berlaku; minta kode baru / no valid code; request a new one');
    }
    if (row.code_attempts >= MAX_CODE_ATTEMPTS) {
      throw new RecipientError('TOO_MANY_ATTEMPTS', 'terlalu banyak percobaan; minta kode baru / too many attempts; request a new code');
    }
    if (now.getTime() > row.code_expires_at) throw new RecipientError('CODE_EXPIRED', 'kode kedaluwarsa / code expired');
    if (typeof code !== 'string' || hashCode(row.id, code) !== row.code_hash) {
      // Committed on its own (not rolled back with the error): attempts must count.
      this.s.failedAttempt.run(row.id);
      throw new RecipientError('WRONG_CODE', 'kode salah / wrong code');
    }
    return this.db.transaction(() => {
      const areas = JSON.parse(row.pending_areas ?? '[]') as string[];
      this.s.clearAreas.run(row.id);
      for (const a of areas) this.s.addArea.run(row.id, a);
      this.s.confirm.run(now.toISOString(), row.id);
      return this.view(this.s.byId.get(row.id)!);
    })();
  }

  /** A resident leaves: the row and its areas are deleted. False when unknown. */
  unsubscribe(recipientId: string): boolean {
    const row = this.s.byId.get(recipientId);
    if (!row || row.kind !== 'resident') return false;
    return (this.s.delete.run(recipientId) as { changes: number }).changes === 1;
  }

  /**
   * STOP / BERHENTI from a phone (the modem channel's callback): every resident subscription of
   * that number, on every channel, is deleted. Returns how many; 0 for numbers not accepted.
   */
  unsubscribeByAddress(address: unknown): number {
    let phone: string;
    try {
      phone = normalizeAddress('phone', address);
    } catch {
      return 0;
    }
    return (this.s.deleteResidentsByAddress.run(phone) as { changes: number }).changes;
  }

  get(recipientId: string): RecipientView | undefined {
    const row = typeof recipientId === 'string' ? this.s.byId.get(recipientId) : undefined;
    return row ? this.view(row) : undefined;
  }

  list(kind: 'resident' | 'staff', limit: number, offset: number): RecipientView[] {
    return this.s.list.all(kind, limit, offset).map((r) => this.view(r));
  }

  counts(): { residentsActive: number; residentsPending: number; staff: number } {
    const out = { residentsActive: 0, residentsPending: 0, staff: 0 };
    for (const c of this.s.counts.all()) {
      if (c.kind === 'staff') out.staff += c.n;
      else if (c.status === 'active') out.residentsActive += c.n;
      else out.residentsPending += c.n;
    }
    return out;
  }

  /** Confirmed residents subscribed to any of `areaIds`. */
  residentsIn(areaIds: readonly string[]): Target[] {
    return this.s.residentsIn.all(JSON.stringify(areaIds));
  }

  /** Staff of `roles` covering any of `areaIds` (or all areas), up to an escalation order. */
  staffIn(roles: readonly Role[], areaIds: readonly string[], maxEscalationOrder: number): Target[] {
    return this.s.staffIn.all(JSON.stringify(roles), JSON.stringify(areaIds), maxEscalationOrder);
  }

  /** Channel ids that have at least one recipient (staff or resident). */
  channelsWithRecipients(): Set<string> {
    return new Set(this.s.channelsWithRecipients.all().map((r) => r.channel_id));
  }

  /** Address and language at send time (pending ones too: they get their code); undefined once they left. */
  addressOf(recipientId: string): { address: string; language: Language } | undefined {
    return this.s.address.get(recipientId);
  }

  private view(r: RecipientRow): RecipientView {
    return {
      id: r.id,
      kind: r.kind,
      role: r.role,
      channelId: r.channel_id,
      address: r.address,
      language: r.language,
      status: r.status,
      areaIds: this.s.areasOf.all(r.id).map((a) => a.area_id),
      escalationOrder: r.escalation_order,
      createdAt: r.created_at,
      confirmedAt: r.confirmed_at,
    };
  }
}

function unknownSubscription(id: string): RecipientError {
  return new RecipientError('UNKNOWN_SUBSCRIPTION', `langganan tidak dikenal / unknown subscription "${id.slice(0, 40)}"`);
}

/** The area and its parents (desa -> kecamatan -> ...), cycle-safe. */
export function areaWithParents(areaId: string, parents: Record<string, string>): string[] {
  const out = [areaId];
  let cur = parents[areaId];
  while (cur !== undefined && !out.includes(cur) && out.length < 10) {
    out.push(cur);
    cur = parents[cur];
  }
  return out;
}
