/**
 * The line-sensor serial ports of the running gateway, keyed by path, so that a new config
 * re-opens only what changed: a port whose settings, sensors or reconnect back-off differ is
 * closed and opened anew; an unchanged port keeps running (its open file descriptor, its line
 * buffer); a removed port is closed. The queue and its readings are never touched.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.ts';
import { LineSensorDriver } from '../drivers/line-sensor.ts';
import type { IngestStore } from '../queue/ingest-store.ts';
import type { GatewayCounters } from '../stats.ts';
import { SerialLineSource, type PortState } from '../transport/serial-line-source.ts';
import type { BindingInterface } from '../transport/serial-types.ts';

export interface PortSetOptions {
  binding: BindingInterface;
  store: IngestStore;
  counters: GatewayCounters;
  logger: Logger;
  now: () => Date;
  onCommitted: () => void;
}

/** What `apply` did, by port path. */
export interface PortChanges {
  opened: string[];
  reopened: string[];
  closed: string[];
  kept: string[];
}

export class PortSet {
  private readonly open = new Map<string, { key: string; source: SerialLineSource }>();

  constructor(private readonly opts: PortSetOptions) {}

  /** Brings the ports in line with `config`; resolves after the first open attempt of each new one. */
  async apply(config: GatewayConfig): Promise<PortChanges> {
    const changes: PortChanges = { opened: [], reopened: [], closed: [], kept: [] };
    const wanted = new Map(config.ports.map((p) => [p.path, p]));
    for (const s of config.sensors) {
      // New sensors get their health entry (last seen, gaps) before their first frame.
      if (!this.opts.counters.sensors.has(s.id)) this.opts.counters.sensors.set(s.id, { lastSeen: null, batteryV: null, gaps: 0 });
    }
    const stops: Promise<void>[] = [];
    for (const [path, entry] of this.open) {
      const port = wanted.get(path);
      if (!port || keyOf(config, path) !== entry.key) {
        stops.push(entry.source.stop());
        this.open.delete(path);
        (port ? changes.reopened : changes.closed).push(path);
      } else {
        changes.kept.push(path);
      }
    }
    await Promise.all(stops);
    const starts: Promise<void>[] = [];
    for (const port of config.ports) {
      if (this.open.has(port.path)) continue;
      if (!changes.reopened.includes(port.path)) changes.opened.push(port.path);
      const driver = new LineSensorDriver({
        portPath: port.path,
        sensors: config.sensors.filter((s) => s.port === port.path),
        store: this.opts.store,
        counters: this.opts.counters,
        logger: this.opts.logger,
        now: this.opts.now,
        onCommitted: this.opts.onCommitted,
      });
      const source = new SerialLineSource({
        port,
        binding: this.opts.binding,
        logger: this.opts.logger,
        reconnect: config.serialReconnect,
        onLine: (line) => driver.handleLine(line),
        onTooLong: () => driver.tooLong(),
      });
      this.open.set(port.path, { key: keyOf(config, port.path), source });
      starts.push(source.start());
    }
    await Promise.all(starts);
    return changes;
  }

  states(): Record<string, PortState> {
    return Object.fromEntries([...this.open].map(([path, e]) => [path, e.source.state]));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.open.values()].map((e) => e.source.stop()));
    this.open.clear();
  }
}

/** Everything that shapes one port's source and driver. */
function keyOf(config: GatewayConfig, path: string): string {
  return JSON.stringify({
    port: config.ports.find((p) => p.path === path),
    sensors: config.sensors.filter((s) => s.port === path),
    reconnect: config.serialReconnect,
  });
}
