/**
 * The `ReadingStore` contract: every implementation (SQLite now, InfluxDB later) must pass these
 * against its real backend. Call `describeReadingStoreContract` from the implementation's test.
 */
import { readingSchema, type Reading, type ReadingInput } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReadingStore } from '../../src/storage/reading-store.ts';
import { wl } from '../helpers/fixtures.ts';

export interface StoreUnderTest {
  store: ReadingStore;
  /** Closes and opens the same backend again (durability across restarts). */
  reopen(): Promise<ReadingStore>;
  close(): Promise<void>;
}

const parse = (r: ReadingInput): Reading => readingSchema.parse(r);
const at = new Date('2025-01-09T09:00:00.000Z');

export function describeReadingStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`ReadingStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: ReadingStore;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.close();
    });

    it('stores a batch and returns the stored readings sorted by time', () => {
      const res = store.insertBatch('gw-a', [parse(wl(3, 30)), parse(wl(1, 10)), parse(wl(2, 20))], at);
      expect(res.duplicates).toBe(0);
      expect(res.stored.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(res.stored[0]).toEqual({
        gatewayId: 'gw-a',
        sensorId: 'wl-1',
        epoch: 1,
        seq: 1,
        quantity: 'water_level',
        value: 10,
        unit: 'cm',
        ts: wl(1, 10).ts,
        quality: 'good',
        receivedAt: at.toISOString(),
      });
      expect(store.count()).toBe(3);
    });

    it('is idempotent on (sensorId, epoch, seq, quantity)', () => {
      store.insertBatch('gw-a', [parse(wl(1, 10)), parse(wl(2, 20))], at);
      const again = store.insertBatch('gw-a', [parse(wl(1, 10)), parse(wl(2, 20)), parse(wl(3, 30))], at);
      expect(again.duplicates).toBe(2);
      expect(again.conflicts).toBe(0);
      expect(again.stored.map((r) => r.seq)).toEqual([3]);
      expect(store.count()).toBe(3);
      expect(store.history({ sensorId: 'wl-1', quantity: 'water_level', limit: 100 })).toHaveLength(3);
    });

    it('keeps a new epoch apart: a sensor reboot does not make new data look old', () => {
      store.insertBatch('gw-a', [parse(wl(5, 10))], at);
      const res = store.insertBatch('gw-a', [parse(wl(5, 99, { epoch: 2, ts: '2025-01-09T10:00:00.000Z' }))], at);
      expect(res.stored).toHaveLength(1);
      expect(store.count()).toBe(2);
    });

    it('counts a duplicate key with different data as a conflict and keeps the first', () => {
      store.insertBatch('gw-a', [parse(wl(1, 10))], at);
      const res = store.insertBatch('gw-a', [parse(wl(1, 11))], at);
      expect(res).toMatchObject({ duplicates: 1, conflicts: 1, stored: [] });
      expect(store.latest('wl-1')[0]!.value).toBe(10);
    });

    it('treats a duplicate inside one batch as a duplicate', () => {
      const res = store.insertBatch('gw-a', [parse(wl(1, 10)), parse(wl(1, 10))], at);
      expect(res.stored).toHaveLength(1);
      expect(res.duplicates).toBe(1);
    });

    it('keeps the latest value per sensor and quantity by event time, not arrival', () => {
      store.insertBatch('gw-a', [parse(wl(5, 50))], at);
      store.insertBatch('gw-a', [parse(wl(4, 40))], at); // late arrival of an older reading
      store.insertBatch('gw-a', [
        parse({ sensorId: 'rg-1', epoch: 1, seq: 1, quantity: 'rain', value: 0.2, unit: 'mm', ts: wl(1, 0).ts }),
      ], at);
      expect(store.latest('wl-1').map((r) => r.value)).toEqual([50]);
      expect(store.latest().map((r) => `${r.sensorId}:${r.quantity}:${r.value}`)).toEqual([
        'rg-1:rain:0.2',
        'wl-1:water_level:50',
      ]);
      expect(store.latest('nope')).toEqual([]);
    });

    it('returns history ascending within the window, the newest `limit` when cut', () => {
      store.insertBatch('gw-a', Array.from({ length: 10 }, (_, i) => parse(wl(i, i * 10))), at);
      const all = store.history({ sensorId: 'wl-1', quantity: 'water_level', limit: 100 });
      expect(all.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const cut = store.history({ sensorId: 'wl-1', quantity: 'water_level', limit: 3 });
      expect(cut.map((r) => r.seq)).toEqual([7, 8, 9]);
      const window = store.history({
        sensorId: 'wl-1',
        quantity: 'water_level',
        from: new Date(wl(2, 0).ts),
        to: new Date(wl(4, 0).ts),
        limit: 100,
      });
      expect(window.map((r) => r.seq)).toEqual([2, 3, 4]);
      expect(store.history({ sensorId: 'wl-1', quantity: 'rain', limit: 100 })).toEqual([]);
    });

    it('counts sequence gaps per sensor and epoch, and heals them when late readings arrive', () => {
      store.insertBatch('gw-a', [parse(wl(1, 1)), parse(wl(2, 2)), parse(wl(6, 6))], at);
      let [s] = store.sequenceStats('wl-1');
      expect(s).toMatchObject({ sensorId: 'wl-1', epoch: 1, minSeq: 1, maxSeq: 6, received: 3, gaps: 3 });
      store.insertBatch('gw-a', [parse(wl(4, 4)), parse(wl(4, 4))], at); // duplicate does not count twice
      [s] = store.sequenceStats('wl-1');
      expect(s).toMatchObject({ received: 4, gaps: 2 });
      // Two quantities of one frame share a sequence number: one seq, not two.
      store.insertBatch('gw-a', [parse(wl(3, 3)), parse(wl(3, 21, { quantity: 'temperature', unit: 'degC' }))], at);
      [s] = store.sequenceStats('wl-1');
      expect(s).toMatchObject({ received: 5, gaps: 1 });
      store.insertBatch('gw-a', [parse(wl(0, 0, { epoch: 2, ts: '2025-01-09T12:00:00.000Z' }))], at);
      expect(store.sequenceStats('wl-1').map((x) => [x.epoch, x.gaps])).toEqual([
        [2, 0],
        [1, 1],
      ]);
    });


    it('stays idempotent across close and reopen', async () => {
      store.insertBatch('gw-a', [parse(wl(1, 10)), parse(wl(2, 20))], at);
      store = await subject.reopen();
      expect(store.count()).toBe(2);
      const again = store.insertBatch('gw-a', [parse(wl(1, 10)), parse(wl(2, 20)), parse(wl(3, 30))], at);
      expect(again).toMatchObject({ duplicates: 2 });
      expect(again.stored.map((r) => r.seq)).toEqual([3]);
      expect(store.count()).toBe(3);
      expect(store.sequenceStats('wl-1')[0]).toMatchObject({ received: 3, gaps: 0 });
      expect(store.latest('wl-1')[0]!.value).toBe(30);
    });
  });
}
