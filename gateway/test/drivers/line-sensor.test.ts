import { join } from 'node:path';
import { encodeMessage, frameBody, readingSchema } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/load.ts';
import { LineSensorDriver } from '../../src/drivers/line-sensor.ts';
import { openGatewayDatabase, type GatewayDatabase } from '../../src/queue/database.ts';
import { DiskQueue } from '../../src/queue/disk-queue.ts';
import { IngestStore } from '../../src/queue/ingest-store.ts';
import { SequenceTracker } from '../../src/queue/sequence-tracker.ts';
import { TipCounters } from '../../src/queue/tip-counters.ts';
import { GatewayCounters } from '../../src/stats.ts';
import { baseConfig, err, hbt, hel, quietLogger, rdg, tempDir } from '../helpers/fixtures.ts';

const T0 = new Date('2025-02-03T04:05:06.789Z');
/** The epoch a sensor seen first at T0 gets: the clock in whole UTC seconds (SPEC.md §5.4). */
const E0 = Math.floor(T0.getTime() / 1000);

describe('LineSensorDriver', () => {
  let dir: string;
  let cleanup: () => void;
  let db: GatewayDatabase | undefined;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => {
    db?.close();
    db = undefined;
    cleanup();
  });

  /** Opens the gateway database in `dir` and a driver for the port of baseConfig. */
  function open() {
    db?.close();
    const config = parseGatewayConfig(baseConfig({ dataDir: dir, mqttUrl: 'mqtt://127.0.0.1:1', portPath: '/dev/ttyT' }), {});
    db = openGatewayDatabase(join(dir, 'gw.sqlite'));
    const queue = new DiskQueue(db, { maxReadings: 10_000 });
    const counters = new GatewayCounters(config.sensors.map((s) => s.id));
    let committed = 0;
    const driver = new LineSensorDriver({
      portPath: '/dev/ttyT',
      sensors: config.sensors,
      store: new IngestStore(db, queue, new SequenceTracker(db, () => T0), new TipCounters(db)),
      counters,
      logger: quietLogger(),
      now: () => T0,
      onCommitted: (n) => (committed += n),
    });
    const feed = (...frames: string[]) => frames.forEach((f) => driver.handleLine(f.replace(/\n$/, '')));
    const queued = () => queue.peekBatch(10_000).map((r) => readingSchema.parse(r.reading));
    return { driver, counters, queue, feed, queued, committed: () => committed };
  }

  it('turns an RDG frame into calibrated readings sharing the frame epoch/seq', () => {
    const g = open();
    g.feed(hel('wl-01', 0), rdg('wl-01', 1, { level_cm: 120.5, batt_v: 3.9 }));
    expect(g.queued()).toEqual([
      { sensorId: 'wl-01', epoch: E0, seq: 1, quantity: 'water_level', value: 120.5, unit: 'cm', ts: T0.toISOString(), quality: 'good' },
      { sensorId: 'wl-01', epoch: E0, seq: 1, quantity: 'battery_voltage', value: 3.9, unit: 'V', ts: T0.toISOString(), quality: 'good' },
    ]);
    expect(g.counters.readingsAccepted).toBe(2);
    expect(g.committed()).toBe(2);
    expect(g.counters.sensorBoots).toBe(1);
    expect(g.counters.sensors.get('wl-01')).toMatchObject({ lastSeen: T0, batteryV: 3.9, gaps: 0 });
  });

  it('flags out-of-range values suspect and keeps them', () => {
    const g = open();
    g.feed(rdg('wl-01', 1, { level_cm: 2500 }));
    expect(g.queued()).toMatchObject([{ value: 2500, quality: 'suspect' }]);
  });

  it('counts refused lines per code, unknown sensors, duplicates and unmapped channels', () => {
    const g = open();
    g.feed(
      'garbage',
      '',
      rdg('wl-01', 1, { level_cm: 1 }).replace('*', '#'),
      rdg('wl-01', 1, { level_cm: 1 }).replace(/\*[0-9A-F]{4}/, '*0000'),
      frameBody('RDG,wl-01,1,level_cm=abc'),
      rdg('stranger', 1, { level_cm: 1 }),
      encodeMessage({ kind: 'CMD', sensorId: 'wl-01', seq: 1, command: 'PING' }),
      rdg('wl-01', 5, { level_cm: 1, extra_ch: 9 }),
      rdg('wl-01', 5, { level_cm: 1 }),
    );
    expect(g.counters.rejectedFrames).toEqual({
      no_start: 1,
      empty: 1,
      no_crc: 1,
      bad_crc: 1,
      bad_number: 1,
      unknown_sensor: 1,
      unexpected_kind: 1,
      duplicate_seq: 1,
    });
    expect(g.counters.ignoredChannels).toEqual({ unmapped_channel: 1 });
    expect(g.queued()).toHaveLength(1);
  });

  it('heartbeats: mapped channels become readings; battery is reported for health; unmapped ones are not counted', () => {
    const g = open();
    g.feed(hbt('wl-01', 3, { batt_v: 3.7, uptime_s: 100 }), hbt('rg-01', 3, { batt_v: 4.1 }));
    expect(g.queued()).toMatchObject([{ sensorId: 'wl-01', quantity: 'battery_voltage', value: 3.7, seq: 3 }]);
    expect(g.counters.sensors.get('rg-01')!.batteryV).toBe(4.1);
    expect(g.counters.ignoredChannels).toEqual({});
  });

  it('ERR frames are counted and consume a sequence number', () => {
    const g = open();
    g.feed(rdg('wl-01', 1, { level_cm: 1 }), err('wl-01', 2, 'SENSOR_FAULT'), rdg('wl-01', 3, { level_cm: 2 }));
    expect(g.counters.sensorErrors).toBe(1);
    expect(g.counters.sensors.get('wl-01')!.gaps).toBe(0);
  });

  it('counts gaps per sensor', () => {
    const g = open();
    g.feed(rdg('wl-01', 1, { level_cm: 1 }), rdg('wl-01', 5, { level_cm: 1 }), rdg('rg-01', 9, { tips: 0 }));
    expect(g.counters.sensors.get('wl-01')!.gaps).toBe(3);
    expect(g.counters.sensors.get('rg-01')!.gaps).toBe(0);
  });

  it('tipping bucket: baseline, deltas, wrap, reset after HEL and reset without HEL', () => {
    const g = open();
    g.feed(
      rdg('rg-01', 10, { tips: 65530 }), // first reading ever: baseline 0 mm
      rdg('rg-01', 11, { tips: 65533 }), // 3 tips
      rdg('rg-01', 12, { tips: 2 }), // wrap: 5 tips
      hel('rg-01', 0), // reboot: counter restarts at 0
      rdg('rg-01', 1, { tips: 4 }), // 4 tips since boot
      rdg('rg-01', 2, { tips: 4 }), // none
      rdg('rg-01', 3, { tips: 9000 }), // 8996 tips (a storm the gateway did not see frame by frame)
      rdg('rg-01', 4, { tips: 6 }), // fell without HEL, not near the top: reset, 6 tips
      rdg('rg-01', 5, { tips: 70000 }), // not a 16-bit counter: channel refused
    );
    const rain = g.queued().map((r) => [r.epoch, r.seq, r.value]);
    expect(rain).toEqual([
      [E0, 10, 0],
      [E0, 11, 0.6],
      [E0, 12, 1],
      [E0 + 1, 1, 0.8],
      [E0 + 1, 2, 0],
      [E0 + 1, 3, 1799.2],
      [E0 + 1, 4, 1.2],
    ]);
    expect(g.counters.ignoredChannels).toEqual({ bad_counter: 1 });
  });

  it('tipping-bucket counters and sequence state survive a gateway restart: no double counting', () => {
    let g = open();
    g.feed(rdg('rg-01', 1, { tips: 100 }), rdg('rg-01', 2, { tips: 110 }));
    g = open(); // the same database, new process state
    g.feed(rdg('rg-01', 2, { tips: 110 }), rdg('rg-01', 3, { tips: 115 }));
    expect(g.counters.rejectedFrames).toEqual({ duplicate_seq: 1 });
    expect(g.queued().map((r) => [r.seq, r.value])).toEqual([
      [1, 0],
      [2, 2],
      [3, 1],
    ]);
  });

  it('a HEL seen before a restart still resets the counter after it', () => {
    let g = open();
    g.feed(rdg('rg-01', 7, { tips: 500 }), hel('rg-01', 0));
    g = open();
    g.feed(rdg('rg-01', 1, { tips: 3 }));
    expect(g.queued().map((r) => [r.epoch, r.seq, r.value])).toEqual([
      [E0, 7, 0],
      [E0 + 1, 1, 0.6],
    ]);
  });
});
