import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.ts';
import { GatewayStateStore } from '../../src/storage/gateway-state-store.ts';
import { tempDir } from '../helpers/fixtures.ts';

describe('GatewayStateStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  it('keeps the last status and health per gateway, across a restart', () => {
    let db = openDatabase(dir);
    let store = new GatewayStateStore(db);
    const t1 = new Date('2025-01-09T08:00:00.000Z');
    const t2 = new Date('2025-01-09T08:01:00.000Z');
    store.recordStatus({ v: 1, gatewayId: 'gw-a', state: 'online', ts: t1.toISOString() }, t1);
    store.recordHealth(
      { v: 1, gatewayId: 'gw-a', ts: t2.toISOString(), uptimeS: 60, queueDepth: 2, oldestQueuedAgeS: 1, rejectedFrames: {}, sensors: [] },
      t2,
    );
    store.recordStatus({ v: 1, gatewayId: 'gw-a', state: 'offline', ts: t1.toISOString() }, t2);
    store.recordStatus({ v: 1, gatewayId: 'gw-b', state: 'online', ts: t2.toISOString() }, t2);
    db.close();

    db = openDatabase(dir);
    store = new GatewayStateStore(db);
    const all = store.list();
    expect([...all.keys()]).toEqual(['gw-a', 'gw-b']);
    expect(all.get('gw-a')).toEqual({
      gatewayId: 'gw-a',
      status: { v: 1, gatewayId: 'gw-a', state: 'offline', ts: t1.toISOString() },
      statusReceivedAt: t2.toISOString(),
      health: expect.objectContaining({ queueDepth: 2 }),
      healthReceivedAt: t2.toISOString(),
    });
    expect(all.get('gw-b')).toMatchObject({ health: null, healthReceivedAt: null });
    db.close();
  });
});
