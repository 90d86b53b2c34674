/**
 * Sends pending outbox rows. Each channel has its own worker, so a slow or failing channel
 * (a webhook timing out) never delays another (the console). Within a channel rows go one at a
 * time, oldest due first; a failed row is retried with exponential back-off and marked `failed`
 * after the channel's `maxAttempts`. Meanwhile later rows of other alerts still go out, but later
 * rows of the same alert wait (the outbox only hands out the oldest pending row per alert and
 * channel), so residents never get an all-clear before the retried warning it follows. A pass
 * re-reads the due rows after each batch, which is how a held row goes right after its
 * predecessor was sent or failed for good. Before each batch, and again right before each send,
 * stale de-escalations (a newer message of their alert is queued) are marked `superseded`.
 * Clock and timers are injected so back-off is testable without waiting.
 */
import type { Logger } from 'pino';
import type { NotificationChannel } from './channel.ts';
import type { Outbox } from './outbox.ts';

/** Timer functions (defaults: the global ones, unref'd so they never hold the process open). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BackoffOptions {
  /** Delay after the first failed attempt, ms. */
  baseMs: number;
  /** Upper bound of any delay, ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 5 * 60_000 };

/** Delay before the next try after `failedAttempts` (1-based) failures: base * 2^(n-1), capped. */
export function backoffDelayMs(failedAttempts: number, opts: BackoffOptions): number {
  const exp = Math.min(Math.max(failedAttempts - 1, 0), 30);
  return Math.min(opts.maxMs, opts.baseMs * 2 ** exp);
}

export const defaultTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Rows fetched per pass; a pass repeats while rows are due. */
const BATCH = 50;
/** Node timers overflow above 2^31-1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

export interface DispatcherOptions {
  outbox: Outbox;
  channels: readonly NotificationChannel[];
  logger: Logger;
  now: () => Date;
  timers?: Timers;
  backoff?: BackoffOptions;
}

interface Worker {
  channel: NotificationChannel;
  timer: unknown;
  running: Promise<void> | null;
  /** A kick arrived during a pass: run again right after it. */
  again: boolean;
}

export class Dispatcher {
  private readonly workers: Worker[];
  private readonly timers: Timers;
  private readonly backoff: BackoffOptions;
  private started = false;

  constructor(private readonly opts: DispatcherOptions) {
    this.timers = opts.timers ?? defaultTimers;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.workers = opts.channels.map((channel) => ({ channel, timer: null, running: null, again: false }));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const orphans = this.opts.outbox.failOrphans(this.workers.map((w) => w.channel.id));
    if (orphans > 0) this.opts.logger.warn({ rows: orphans }, 'outbox rows of unconfigured channels marked failed');
    this.kick();
  }

  /** New rows were queued (or time passed): let every worker look now. */
  kick(): void {
    if (!this.started) return;
    for (const w of this.workers) this.wake(w);
  }

  /** Stops scheduling; resolves when in-flight sends have settled. */
  async stop(): Promise<void> {
    this.started = false;
    for (const w of this.workers) {
      if (w.timer !== null) this.timers.clearTimeout(w.timer);
      w.timer = null;
      w.again = false;
    }
    await Promise.all(this.workers.map((w) => w.running));
  }

  /** Resolves when no worker is in a pass (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.workers.some((w) => w.running !== null)) {
      await Promise.all(this.workers.map((w) => w.running));
    }
  }

  private wake(w: Worker): void {
    if (w.running !== null) {
      w.again = true;
      return;
    }
    if (w.timer !== null) this.timers.clearTimeout(w.timer);
    w.timer = null;
    w.running = this.pass(w)
      .catch((err: unknown) => {
        // A database error here must not become an unhandled rejection; the rows stay pending.
        this.opts.logger.error({ channelId: w.channel.id, err }, 'outbox pass failed');
      })
      .finally(() => {
        w.running = null;
        if (!this.started) return;
        if (w.again) {
          w.again = false;
          this.wake(w);
        } else {
          this.schedule(w);
        }
      });
  }

  private schedule(w: Worker): void {
    const next = this.opts.outbox.nextDueAt(w.channel.id);
    if (next === null) return;
    const delay = Math.min(Math.max(next - this.opts.now().getTime(), 0), MAX_TIMER_MS);
    w.timer = this.timers.setTimeout(() => {
      w.timer = null;
      if (this.started) this.wake(w);
    }, delay);
  }

  /** Sends every row that is due, in batches, until none is due or the dispatcher stops. */
  private async pass(w: Worker): Promise<void> {
    const log = this.opts.logger;
    const { channel } = w;
    for (;;) {
      const superseded = this.opts.outbox.supersedeStale(channel.id);
      if (superseded > 0) log.info({ channelId: channel.id, rows: superseded }, 'stale notifications superseded');
      const rows = this.opts.outbox.due(channel.id, this.opts.now().getTime(), BATCH);
      if (rows.length === 0) return;
      for (const row of rows) {
        if (!this.started) return;
        // A newer message of the same alert may have been queued while this batch was sending.
        if (this.opts.outbox.supersedeIfStale(row.id)) {
          log.info({ channelId: channel.id, outboxId: row.id }, 'stale notification superseded');
          continue;
        }
        const attempts = row.attempts + 1;
        try {
          await channel.send({ dedupeKey: row.dedupeKey, payload: row.payload });
          this.opts.outbox.markSent(row.id, attempts, this.opts.now());
          log.debug({ channelId: channel.id, outboxId: row.id, attempts }, 'notification sent');
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          const code = (err as { code?: unknown }).code;
          if (attempts >= channel.maxAttempts) {
            this.opts.outbox.markFailed(row.id, attempts, error);
            log.error({ channelId: channel.id, outboxId: row.id, attempts, code, error }, 'notification failed for good');
          } else {
            const nextAt = this.opts.now().getTime() + backoffDelayMs(attempts, this.backoff);
            this.opts.outbox.markRetry(row.id, attempts, nextAt, error);
            log.warn({ channelId: channel.id, outboxId: row.id, attempts, code, error }, 'notification attempt failed');
          }
        }
      }
    }
  }
}
