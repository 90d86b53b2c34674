/**
 * Back-off for failed MQTT logins per remote address. Each password check is a 32 MiB scrypt
 * (passwords.ts): without a limit one client can guess without end and keep both cores busy.
 * After `maxFailures` failures in a window that starts at the first failure, the address is
 * refused without a check until the window ends. The table is bounded: expired entries go first,
 * then the oldest, so many addresses cannot grow it (they could evade a per-address limit anyway).
 */

/** Settings of the back-off; defaults in `DEFAULT_AUTH_THROTTLE`. */
export interface AuthThrottleOptions {
  /** Failures allowed in one window; the next attempt is refused unchecked. */
  maxFailures: number;
  windowMs: number;
  /** Most addresses remembered at once. */
  maxAddresses: number;
  now: () => number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = {
  maxFailures: 5,
  windowMs: 60_000,
  maxAddresses: 10_000,
  now: Date.now,
};

interface Entry {
  windowStart: number;
  failures: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: AuthThrottleOptions;

  constructor(opts: Partial<AuthThrottleOptions> = {}) {
    this.opts = { ...DEFAULT_AUTH_THROTTLE, ...opts };
  }

  /** True while `address` has used up its failures for the current window. */
  isBlocked(address: string): boolean {
    const e = this.current(address);
    return e !== undefined && e.failures >= this.opts.maxFailures;
  }

  recordFailure(address: string): void {
    const e = this.current(address);
    if (e) {
      e.failures++;
      return;
    }
    if (this.entries.size >= this.opts.maxAddresses) this.makeRoom();
    this.entries.set(address, { windowStart: this.opts.now(), failures: 1 });
  }

  /** Addresses remembered now (for tests and metrics). */
  size(): number {
    return this.entries.size;
  }

  /** The entry of a window still running; an expired one is dropped. */
  private current(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e && this.opts.now() - e.windowStart >= this.opts.windowMs) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }

  private makeRoom(): void {
    const now = this.opts.now();
    for (const [address, e] of this.entries) {
      if (now - e.windowStart >= this.opts.windowMs) this.entries.delete(address);
    }
    // Map order is insertion order: the first key is the oldest window.
    while (this.entries.size >= this.opts.maxAddresses) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
