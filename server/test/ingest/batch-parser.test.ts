import { MAX_BATCH_READINGS, MAX_PAYLOAD_BYTES } from '@kentongan/firmware-protocol';
import { describe, expect, it } from 'vitest';
import { parseBatch } from '../../src/ingest/batch-parser.ts';
import { batch, wl } from '../helpers/fixtures.ts';

const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseBatch', () => {
  it('accepts a valid batch and defaults quality', () => {
    const { quality: _q, ...noQuality } = wl(2, 20);
    const r = parseBatch(buf(batch('gw-a', 'b1', [wl(1, 10), noQuality])), 'gw-a');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.valid.map((x) => [x.seq, x.quality])).toEqual([
      [1, 'good'],
      [2, 'good'],
    ]);
    expect(r.rejected).toEqual([]);
  });

  it('rejects bad readings one by one, keeping the good ones', () => {
    const readings = [
      wl(1, 10),
      { ...wl(2, 20), value: 'NaN' },
      { ...wl(3, 30), unit: 'mm' },
      { ...wl(4, 40), extra: true },
      { ...wl(5, 50), ts: '2025-01-09 08:00' },
      { ...wl(6, 60), seq: -1 },
      null,
      'reading',
      { ...wl(9, 90), sensorId: 'bad id!' },
      wl(10, 100),
    ];
    const r = parseBatch(buf(batch('gw-a', 'b2', readings)), 'gw-a');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.valid.map((x) => x.seq)).toEqual([1, 10]);
    expect(r.rejected.map((x) => x.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.rejected[1]!.reason).toContain('unit');
    for (const x of r.rejected) expect(x.reason.length).toBeLessThanOrEqual(200);
  });

  it('refuses garbage without a batch id and gives no ack', () => {
    for (const payload of ['not json', '', '[]', 'null', '42', '{"readings":[]}', '{"batchId":""}', `{"batchId":"${'x'.repeat(65)}"}`]) {
      const r = parseBatch(buf(payload), 'gw-a');
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.refuse).toBeUndefined();
    }
  });

  it('refuses an oversize payload before parsing it', () => {
    const r = parseBatch(Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20), 'gw-a');
    expect(r).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('answers an invalid envelope whose batch id is readable by rejecting every index', () => {
    const r = parseBatch(buf({ ...batch('gw-a', 'b3', [wl(1, 1), wl(2, 2)]), sentAt: 'yesterday' }), 'gw-a');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('invalid_envelope');
    expect(r.refuse?.batchId).toBe('b3');
    expect(r.refuse?.rejected.map((x) => x.index)).toEqual([0, 1]);
  });

  it('refuses a gatewayId that is not the topic gateway, answering on the topic gateway', () => {
    const r = parseBatch(buf(batch('gw-b', 'b4', [wl(1, 1)])), 'gw-a');
    expect(r).toMatchObject({ ok: false, reason: 'gateway_mismatch', refuse: { batchId: 'b4' } });
  });

  it('does not answer another protocol version: the gateway keeps that data for an upgraded server', () => {
    const r = parseBatch(buf({ ...batch('gw-a', 'b5', [wl(1, 1)]), v: 2 }), 'gw-a');
    expect(r).toMatchObject({ ok: false, reason: 'unsupported_version' });
    if (!r.ok) expect(r.refuse).toBeUndefined();
  });

  it('caps rejected indexes of an oversize batch at the ack limit', () => {
    const readings = Array.from({ length: MAX_BATCH_READINGS + 5 }, (_, i) => wl(i, i));
    const r = parseBatch(buf(batch('gw-a', 'big', readings)), 'gw-a');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refuse?.rejected).toHaveLength(MAX_BATCH_READINGS);
  });

  it('rejects extra envelope fields and prototype tricks', () => {
    const r1 = parseBatch(buf({ ...batch('gw-a', 'b6', [wl(1, 1)]), admin: true }), 'gw-a');
    expect(r1).toMatchObject({ ok: false, reason: 'invalid_envelope' });
    const r2 = parseBatch(buf(`{"__proto__":{"polluted":1},"v":1,"gatewayId":"gw-a","batchId":"b7","sentAt":"2025-01-09T08:00:00.000Z","readings":[]}`), 'gw-a');
    expect(r2.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
