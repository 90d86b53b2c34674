/**
 * Turns one poll's raw Modbus values into readings on the same path as line-sensor frames:
 * physics (src/sensors), then one IngestStore commit with the sequence state and tip counters.
 * A Modbus device has no sequence number of its own, so the gateway assigns one: each commit
 * of a device takes the next number after the last one stored for it (raw 16-bit, wrapping,
 * through the same SequenceTracker and `advanceSequence` rule), in the same transaction as the
 * readings. After a gateway restart it continues from the stored state; a lost database starts
 * a new epoch from the clock seed, as for line sensors. Gaps therefore never occur for Modbus
 * (a missed poll is not a lost reading: nothing was measured).
 */
import { QUANTITY_UNITS, SEQ_MODULO, type Reading } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { IngestStore } from '../../queue/ingest-store.ts';
import type { TipUpdate } from '../../queue/tip-counters.ts';
import { healthValue } from '../../sensors/device-health.ts';
import { calibrate, type PhysicsConfig } from '../../sensors/physics.ts';
import type { GatewayCounters } from '../../stats.ts';
import type { DeviceState } from './device-state.ts';
import type { PolledValues } from './modbus-bus.ts';
import type { ModbusValueConfig } from './schema.ts';

export interface ModbusIngestOptions {
  store: IngestStore;
  counters: GatewayCounters;
  logger: Logger;
  onCommitted?(count: number): void;
}

export class ModbusIngest {
  /** When each tip counter was last read (bounce filter, intensity); in memory, unknown after a restart. */
  private readonly lastTipMs = new Map<string, number>();
  private readonly log: Logger;

  constructor(private readonly opts: ModbusIngestOptions) {
    this.log = opts.logger.child({ component: 'modbus-ingest' });
  }

  /** Stores one poll; a refused disk write is counted (`rejectedFrames.store_failed`) and logged, nothing changes. */
  handle(polled: PolledValues, state: DeviceState): void {
    const { device, at } = polled;
    const readings: Omit<Reading, 'epoch' | 'seq'>[] = [];
    const tipUpdates: TipUpdate[] = [];
    const tipTimes: [string, number][] = [];
    const ts = at.toISOString();
    for (const { value, raw } of polled.values) {
      if (value.health) {
        this.health(device.sensorId, value, raw, state);
        continue;
      }
      const quantity = value.quantity!;
      const tipKey = `${device.sensorId}\u0000${value.name}`;
      const previous = value.tippingBucket ? this.opts.store.tips.get(device.sensorId, value.name) : undefined;
      const last = this.lastTipMs.get(tipKey);
      const result = calibrate(raw, physicsOf(value), previous, { elapsedMs: last === undefined ? undefined : at.getTime() - last });
      if (!result.ok) {
        state.stats.badValues++;
        this.opts.counters.ignore(result.code);
        continue;
      }
      if (result.counter !== undefined) {
        tipUpdates.push({ sensorId: device.sensorId, channel: value.name, counter: result.counter });
        tipTimes.push([tipKey, at.getTime()]);
      }
      if (result.bounced) this.opts.counters.ignoredChannels.bounce_tips = (this.opts.counters.ignoredChannels.bounce_tips ?? 0) + result.bounced;
      readings.push({ sensorId: device.sensorId, quantity, value: result.value, unit: QUANTITY_UNITS[quantity], ts, quality: result.quality });
    }
    if (readings.length === 0 && tipUpdates.length === 0) return;
    const tracker = this.opts.store.tracker;
    const prev = tracker.state(device.sensorId);
    const decision = tracker.decide(device.sensorId, prev ? (prev.lastSeq + 1) % SEQ_MODULO : 0, false);
    if (decision.kind === 'duplicate') throw new Error('unreachable: a gateway-assigned sequence number repeated');
    const keyed = readings.map((r) => ({ ...r, epoch: decision.epoch, seq: decision.seq }) as Reading);
    try {
      this.opts.store.commit({ sequence: decision, readings: keyed, tipUpdates });
    } catch (err) {
      // Nothing changed (one transaction); the next poll reads the device again.
      this.opts.counters.reject('store_failed');
      this.log.error({ sensorId: device.sensorId, err: (err as Error).message }, 'modbus readings not stored');
      return;
    }
    for (const [k, t] of tipTimes) this.lastTipMs.set(k, t);
    const health = this.opts.counters.sensors.get(device.sensorId);
    if (health) {
      health.lastSeen = at;
      const batt = keyed.find((r) => r.quantity === 'battery_voltage');
      if (batt) health.batteryV = batt.value;
    }
    this.opts.counters.readingsAccepted += keyed.length;
    if (keyed.length > 0) this.opts.onCommitted?.(keyed.length);
  }

  private health(sensorId: string, value: ModbusValueConfig, raw: number, state: DeviceState): void {
    const h = healthValue(value.health!, raw * value.scale + value.offset);
    if (!h) {
      state.stats.badValues++;
      this.opts.counters.ignore('bad_value');
      return;
    }
    const before = state.stats.health[h.kind];
    state.stats.health[h.kind] = h.value;
    if (h.kind === 'tamper' && before !== h.value && (before !== undefined || h.value === 1)) {
      this.log.warn({ sensorId, tamper: h.value === 1 }, h.value === 1 ? 'enclosure opened (tamper) / box dibuka' : 'enclosure closed again (tamper cleared)');
    }
    if (h.quality === 'suspect') this.log.debug({ sensorId, kind: h.kind, value: h.value }, 'health value out of range');
  }
}

function physicsOf(v: ModbusValueConfig): PhysicsConfig {
  return { quantity: v.quantity!, scale: v.scale, offset: v.offset, range: v.range, tippingBucket: v.tippingBucket, distanceToWater: v.distanceToWater };
}
