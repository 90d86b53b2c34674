import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { healthSchema } from '@kentongan/firmware-protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClockCheck } from '../../src/publish/clock-check.ts';
import { buildHealth } from '../../src/publish/health.ts';
import { readLinkQuality } from '../../src/publish/link-quality.ts';
import { openGatewayDatabase, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { GatewayCounters } from '../../src/stats.ts';
import { tempDir } from '../helpers/fixtures.ts';

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }));
  return { lines, logger };
}

describe('ClockCheck: the gateway notices its own clock is wrong', () => {
  let now: Date;
  const make = (logger = capture().logger) => new ClockCheck({ maxOffsetS: 30, notBefore: '2026-01-01T00:00:00.000Z', now: () => now, logger });

  beforeEach(() => {
    now = new Date('2026-06-01T10:00:00.000Z');
  });

  it('unknown offset and a sane clock: ok, offset null', () => {
    expect(make().view()).toEqual({ offsetS: null, ok: true });
  });

  it('offset from an ack, corrected by half the round trip; wrong above the limit, logged once each way', () => {
    const { lines, logger } = capture();
    const c = make(logger);
    c.onServerTime('2026-06-01T10:00:10.000Z', 200);
    expect(c.view()).toEqual({ offsetS: 10.1, ok: true });
    c.onServerTime('2026-06-01T10:02:00.000Z', 0); // the gateway is 2 minutes slow
    expect(c.view()).toEqual({ offsetS: 120, ok: false });
    c.onServerTime('2026-06-01T10:02:00.000Z', 0);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/clock is wrong/);
    c.onServerTime('2026-06-01T10:00:01.000Z', 0);
    expect(c.view().ok).toBe(true);
    expect(lines.at(-1)!.msg).toMatch(/agrees/);
  });

  it('ignores acks of resent batches (unknown round trip) and unparsable times', () => {
    const c = make();
    c.onServerTime('2026-06-01T12:00:00.000Z', null);
    c.onServerTime('not a time', 10);
    expect(c.view()).toEqual({ offsetS: null, ok: true });
  });

  it('a clock before the floor (1970 after a power cut) is wrong without any server', () => {
    now = new Date(0);
    expect(make().view().ok).toBe(false);
    now = new Date(Number.NaN);
    expect(make().view().ok).toBe(false);
  });
});

describe('health message with the optional fields', () => {
  let dir: string;
  let cleanup: () => void;
  let db: GatewayDatabase;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('carries drops, backlog, reconnects, clock and link, and meets healthSchema', () => {
    const queue = new DiskQueue(db, { maxReadings: 1 });
    const r = { sensorId: 's', epoch: 0, seq: 0, quantity: 'rain' as const, value: 0, unit: 'mm', ts: '2026-01-01T00:00:00.000Z', quality: 'good' as const };
    queue.append([r, { ...r, seq: 1 }]);
    const counters = new GatewayCounters(['s']);
    counters.reconnects = 3;
    const file = join(dir, 'link.json');
    writeFileSync(file, JSON.stringify({ rssiDbm: -71, quality: 60, technology: 'lte' }));
    const link = readLinkQuality(file);
    expect(link.ok).toBe(true);
    const h = buildHealth({
      gatewayId: 'gw-1', now: new Date('2026-01-01T01:00:00.000Z'), startedAt: new Date('2026-01-01T00:00:00.000Z'), queue, counters,
      replayBacklog: 1234, clock: { offsetS: -2.5, ok: true, clampedReadings: 4 }, link: link.ok ? link.value : undefined,
    });
    expect(healthSchema.parse(h)).toEqual(h);
    expect(h).toMatchObject({ queueDepth: 1, droppedReadings: 1, reconnects: 3, replayBacklog: 1234, uptimeS: 3600, clock: { offsetS: -2.5, ok: true, clampedReadings: 4 }, link: { rssiDbm: -71 } });
  });

  it('a missing, oversized or hostile link file is an error, never a crash', () => {
    expect(readLinkQuality(join(dir, 'missing.json')).ok).toBe(false);
    const f = join(dir, 'bad.json');
    for (const content of ['{', '[]', '{"rssiDbm": 12}', '{"quality": 60, "extra": 1}', 'x'.repeat(10_000)]) {
      writeFileSync(f, content);
      expect(readLinkQuality(f).ok).toBe(false);
    }
  });
});
