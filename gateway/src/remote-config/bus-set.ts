/**
 * The Modbus RTU buses of the running gateway, keyed by serial path, re-opened by a new config
 * only where their settings, devices or register maps changed (as PortSet does for line-sensor
 * ports). Modbus sequence numbers come from the gateway's durable tracker, so a re-opened bus
 * continues the keys; the queue is never touched.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.ts';
import { ModbusBus, type ModbusBusStats } from '../drivers/modbus/modbus-bus.ts';
import type { ModbusIngest } from '../drivers/modbus/modbus-ingest.ts';
import type { GatewayCounters } from '../stats.ts';
import type { BindingInterface } from '../transport/serial-types.ts';
import type { PortChanges } from './port-set.ts';

export interface BusSetOptions {
  binding: BindingInterface;
  ingest: ModbusIngest;
  counters: GatewayCounters;
  logger: Logger;
  now: () => Date;
}

export class BusSet {
  private readonly open = new Map<string, { key: string; bus: ModbusBus }>();
  private stoppedStats: ModbusBusStats[] | null = null;

  constructor(private readonly opts: BusSetOptions) {}

  async apply(config: GatewayConfig): Promise<PortChanges> {
    this.stoppedStats = null;
    const changes: PortChanges = { opened: [], reopened: [], closed: [], kept: [] };
    const buses = config.modbus?.buses ?? [];
    const wanted = new Map(buses.map((b) => [b.path, b]));
    for (const b of buses) {
      for (const d of b.devices) {
        if (!this.opts.counters.sensors.has(d.sensorId)) this.opts.counters.sensors.set(d.sensorId, { lastSeen: null, batteryV: null, gaps: 0 });
      }
    }
    const stops: Promise<void>[] = [];
    for (const [path, entry] of this.open) {
      const bus = wanted.get(path);
      if (!bus || keyOf(bus, config) !== entry.key) {
        stops.push(entry.bus.stop());
        this.open.delete(path);
        (bus ? changes.reopened : changes.closed).push(path);
      } else {
        changes.kept.push(path);
      }
    }
    await Promise.all(stops);
    const starts: Promise<void>[] = [];
    for (const bus of buses) {
      if (this.open.has(bus.path)) continue;
      if (!changes.reopened.includes(bus.path)) changes.opened.push(bus.path);
      const running = new ModbusBus({
        bus,
        binding: this.opts.binding,
        logger: this.opts.logger,
        now: this.opts.now,
        reconnect: config.serialReconnect,
        onValues: (polled, state) => this.opts.ingest.handle(polled, state),
      });
      this.open.set(bus.path, { key: keyOf(bus, config), bus: running });
      starts.push(running.start());
    }
    await Promise.all(starts);
    return changes;
  }

  stats(): ModbusBusStats[] {
    if (this.stoppedStats !== null) return this.stoppedStats;
    return [...this.open.values()].map((e) => e.bus.stats());
  }

  async stop(): Promise<void> {
    await Promise.all([...this.open.values()].map((e) => e.bus.stop()));
    // The final counters stay readable after a stop (shutdown summary, tests).
    this.stoppedStats = [...this.open.values()].map((e) => e.bus.stats());
    this.open.clear();
  }
}

function keyOf(bus: unknown, config: GatewayConfig): string {
  return JSON.stringify({ bus, reconnect: config.serialReconnect });
}
