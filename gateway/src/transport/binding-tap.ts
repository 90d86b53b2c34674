/**
 * Wraps a serialport binding and remembers the port each `open` returned, by path. Tests and
 * simulators use it with `MockBinding` to reach the opened port and inject bytes
 * (`(tap.port(path) as MockPortBinding).emitData(...)`) without the gateway exposing its
 * streams, and to simulate a cable pulled out (`tap.unplug(path)`).
 */
import type { BindingInterface, BindingOpenOptions as OpenOptions, BindingPortInterface } from './serial-types.ts';

export interface BindingTap {
  /** Pass this to `startGateway(config, { binding })`. */
  readonly binding: BindingInterface;
  /** The port most recently opened at `path` (as the wrapped binding returned it), if still open. */
  port(path: string): BindingPortInterface | undefined;
  /** Resolves with the port at `path` once it is open (a re-open after a reconnect counts too). */
  waitForOpen(path: string, timeoutMs: number, notThis?: BindingPortInterface): Promise<BindingPortInterface>;
  /** Fails the pending read of the port at `path` as an unplugged device does; returns false if none. */
  unplug(path: string): boolean;
  /** How many times a port at `path` was opened. */
  openCount(path: string): number;
}

interface Tapped {
  inner: BindingPortInterface;
  failRead: ((err: Error) => void) | undefined;
}

export function tapBinding(inner: BindingInterface): BindingTap {
  const ports = new Map<string, Tapped>();
  const opens = new Map<string, number>();
  const binding: BindingInterface = {
    list: () => inner.list(),
    async open(options: OpenOptions) {
      const port = await inner.open(options);
      const tapped: Tapped = { inner: port, failRead: undefined };
      ports.set(options.path, tapped);
      opens.set(options.path, (opens.get(options.path) ?? 0) + 1);
      return wrapPort(tapped);
    },
  };
  const current = (path: string) => {
    const p = ports.get(path)?.inner;
    return p?.isOpen ? p : undefined;
  };
  return {
    binding,
    port: current,
    async waitForOpen(path, timeoutMs, notThis) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const p = current(path);
        if (p && p !== notThis) return p;
        if (Date.now() > deadline) throw new Error(`port ${path} did not open within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    unplug(path) {
      const fail = ports.get(path)?.failRead;
      if (!fail) return false;
      fail(new Error('device disconnected (simulated unplug)'));
      return true;
    },
    openCount: (path) => opens.get(path) ?? 0,
  };
}

/** Delegates everything to the real port; `read` can be failed from outside (unplug). */
function wrapPort(t: Tapped): BindingPortInterface {
  const p = t.inner;
  return {
    get openOptions() {
      return p.openOptions;
    },
    get isOpen() {
      return p.isOpen;
    },
    close: () => p.close(),
    read: (buffer, offset, length) =>
      new Promise((resolve, reject) => {
        t.failRead = reject;
        p.read(buffer, offset, length).then(resolve, reject);
      }),
    write: (buffer) => p.write(buffer),
    update: (options) => p.update(options),
    set: (options) => p.set(options),
    get: () => p.get(),
    getBaudRate: () => p.getBaudRate(),
    flush: () => p.flush(),
    drain: () => p.drain(),
  };
}
