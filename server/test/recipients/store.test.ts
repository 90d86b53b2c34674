import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../src/config/schema.ts';
import { RecipientError } from '../../src/recipients/errors.ts';
import { areaWithParents, MAX_CODE_ATTEMPTS, MAX_CODES_PER_HOUR, RecipientStore } from '../../src/recipients/store.ts';
import { manualClock, openDb, tempDir } from '../alerts/helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;
let store: RecipientStore;

beforeEach(() => {
  tmp = tempDir();
  db = openDb(tmp.dbPath);
  db.pragma('foreign_keys = ON');
  store = new RecipientStore(db);
});
afterEach(() => {
  db.close();
  tmp.cleanup();
});

const SMS = { channelId: 'sms', channelKind: 'http-gateway' };

function subscribe(address: string, areaIds: string[], now: Date, language: 'id' | 'en' | 'su' = 'id') {
  return store.requestSubscription({ ...SMS, address, areaIds, language }, now, 30);
}

function codeError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RecipientError);
    return (e as RecipientError).code;
  }
  return 'no error';
}

describe('resident subscriptions', () => {
  it('stay pending until the code is confirmed, then the areas apply', () => {
    const clock = manualClock();
    const { recipient, code } = subscribe('0812-3456-7789', ['cihanjuang'], clock.now());
    expect(recipient).toMatchObject({ status: 'pending', address: '+6281234567789', areaIds: [] });
    expect(code).toMatch(/^\d{6}$/);
    expect(store.residentsIn(['cihanjuang'])).toEqual([]);
    const wrong = code === '000000' ? '111111' : '000000';
    expect(codeError(() => store.confirm(recipient.id, wrong, clock.now()))).toBe('WRONG_CODE');
    const active = store.confirm(recipient.id, code, clock.now());
    expect(active).toMatchObject({ status: 'active', areaIds: ['cihanjuang'] });
    expect(store.residentsIn(['cihanjuang']).map((t) => t.id)).toEqual([recipient.id]);
    // The same number again is the same recipient (one row per channel and number).
    expect(subscribe('+62 812 3456 7789', ['cimanggung'], clock.now()).recipient.id).toBe(recipient.id);
  });

  it('rejects expired codes, too many attempts and too many code requests', () => {
    const clock = manualClock();
    const a = subscribe('081234567001', ['x'], clock.now());
    clock.advance(31 * 60_000);
    expect(codeError(() => store.confirm(a.recipient.id, a.code, clock.now()))).toBe('CODE_EXPIRED');

    const b = subscribe('081234567002', ['x'], clock.now());
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++) codeError(() => store.confirm(b.recipient.id, 'nope', clock.now()));
    expect(codeError(() => store.confirm(b.recipient.id, b.code, clock.now()))).toBe('TOO_MANY_ATTEMPTS');

    for (let i = 1; i < MAX_CODES_PER_HOUR; i++) subscribe('081234567003', ['x'], clock.now());
    subscribe('081234567003', ['x'], clock.now());
    expect(codeError(() => subscribe('081234567003', ['x'], clock.now()))).toBe('TOO_MANY_REQUESTS');
    clock.advance(3601_000);
    expect(subscribe('081234567003', ['x'], clock.now()).code).toMatch(/^\d{6}$/);
    expect(codeError(() => store.confirm('r-0000000000000000', '123456', clock.now()))).toBe('UNKNOWN_SUBSCRIPTION');
    expect(codeError(() => subscribe('+1 415 555 0100', ['x'], clock.now()))).toBe('INVALID_PHONE');
  });

  it('leave through the API or by STOP from their phone, which deletes the number', () => {
    const clock = manualClock();
    const a = subscribe('081234567004', ['x'], clock.now());
    store.confirm(a.recipient.id, a.code, clock.now());
    const b = store.requestSubscription({ channelId: 'modem', channelKind: 'gsm-modem', address: '6281234567004', areaIds: ['y'], language: 'su' }, clock.now(), 30);
    store.confirm(b.recipient.id, b.code, clock.now());
    const c = subscribe('081234567005', ['x'], clock.now());
    store.confirm(c.recipient.id, c.code, clock.now());
    expect(store.unsubscribe(c.recipient.id)).toBe(true);
    expect(store.unsubscribe(c.recipient.id)).toBe(false);
    expect(store.unsubscribeByAddress('0812 3456 7004')).toBe(2);
    expect(store.unsubscribeByAddress('garbage')).toBe(0);
    expect(store.residentsIn(['x', 'y'])).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM notify_recipient_areas').get()).toEqual({ n: 0 });
  });
});

describe('staff from config', () => {
  const config = serverConfigSchema.parse({
    areas: [
      { id: 'kec-cimanggung', name: 'Kec. Cimanggung', kind: 'kecamatan' },
      { id: 'cihanjuang', name: 'Desa Cihanjuang', kind: 'desa', parentId: 'kec-cimanggung' },
    ],
    notify: { channels: [{ kind: 'console', id: 'sms' }] },
    recipients: {
      staff: [
        { id: 'ops1', role: 'operator', channelId: 'sms', address: '081200000001' },
        { id: 'ops2', role: 'operator', channelId: 'sms', address: '081200000002', escalationOrder: 2 },
        { id: 'sar', role: 'responder', channelId: 'sms', address: '081200000003', areaIds: ['kec-cimanggung'] },
        { id: 'tech', role: 'technician', channelId: 'sms', address: '081200000004', language: 'en' },
      ],
    },
  });

  it('syncs, picks by role, area and escalation order, and removes staff no longer configured', () => {
    const clock = manualClock();
    store.syncFromConfig(config, clock.now());
    const areas = areaWithParents('cihanjuang', store.settings()!.areaParents);
    expect(areas).toEqual(['cihanjuang', 'kec-cimanggung']);
    expect(store.staffIn(['operator'], areas, 1).map((t) => t.id)).toEqual(['s-ops1']);
    expect(store.staffIn(['operator'], areas, 2).map((t) => t.id).sort()).toEqual(['s-ops1', 's-ops2']);
    expect(store.staffIn(['responder'], areas, 1).map((t) => t.id)).toEqual(['s-sar']);
    expect(store.staffIn(['responder'], ['elsewhere'], 1)).toEqual([]);
    expect(store.addressOf('s-tech')).toEqual({ address: '+6281200000004', language: 'en' });
    store.syncFromConfig({ ...config, recipients: { ...config.recipients, staff: config.recipients.staff.slice(0, 1) } }, clock.now());
    expect(store.counts().staff).toBe(1);
    expect(store.addressOf('s-tech')).toBeUndefined();
  });

  it('refuses staff with an unknown channel or a bad number', () => {
    const bad = { ...config, recipients: { ...config.recipients, staff: [{ ...config.recipients.staff[0]!, address: '12' }] } };
    expect(codeError(() => store.syncFromConfig(bad, new Date()))).toBe('INVALID_PHONE');
    const unknown = { ...config, recipients: { ...config.recipients, staff: [{ ...config.recipients.staff[0]!, channelId: 'nope' }] } };
    expect(codeError(() => store.syncFromConfig(unknown, new Date()))).toBe('UNKNOWN_CHANNEL');
  });

  it('walks parents without looping on a cycle', () => {
    expect(areaWithParents('a', { a: 'b', b: 'a' })).toEqual(['a', 'b']);
  });
});
