/**
 * Sends pending outbox rows. Each channel has its own worker, so a slow or failing channel
 * (a webhook timing out, a modem without credit) never delays another. Within a channel up to
 * `concurrency` sends are in flight (bounded; per channel from `notify.delivery`), paced by the
 * channel's token bucket, and each recipient by their own bucket (rate-limit.ts: a limited send
 * waits, it is never dropped). Order: the outbox hands out only the oldest pending row per
 * (alert, channel, recipient), so a person never gets an all-clear before the retried warning it
 * follows, while 10,000 different recipients go out in parallel. A failed row is retried with
 * exponential back-off and marked `failed` after the channel's `maxAttempts`. Before each batch,
 * and again right before each send, stale de-escalations are marked `superseded`; rows whose
 * recipient left are `cancelled`.
 *
 * Outcomes are written in small batches (`Outbox.applyResults`, one transaction per batch):
 * after a crash, rows that were sent but not yet marked go out again with the same dedupe key
 * (`Idempotency-Key`), so delivery is at least once and receivers that honour the key see each
 * message once. Clock and timers are injected so back-off is testable without waiting.
 */
import type { Logger } from 'pino';
import { redactAddresses } from '../recipients/address.ts';
import { RecipientStore } from '../recipients/store.ts';
import type { NotificationChannel, OutboundNotification } from './channel.ts';
import type { Outbox, OutboxRow, SendResult } from './outbox.ts';
import { KeyedBuckets, pacingFor, TokenBucket, DEFAULT_RECIPIENT_RATE, type ChannelPacing, type DeliverySettings } from './rate-limit.ts';

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

/** Rows fetched per query; a pass repeats while rows are due. */
const BATCH = 500;
/**
 * Outcomes are committed when 64 are waiting or 20 ms after the last commit, whichever comes
 * first: few fsyncs at thousands of messages per second, and few re-sends after a crash at low rates.
 */
const FLUSH_EVERY = 64;
const FLUSH_AFTER_MS = 20;
/** Node timers overflow above 2^31-1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

export interface DispatcherOptions {
  outbox: Outbox;
  channels: readonly NotificationChannel[];
  logger: Logger;
  now: () => Date;
  timers?: Timers;
  backoff?: BackoffOptions;
  /** Pacing; default: what `RecipientStore.syncFromConfig` stored, else the built-in defaults. */
  delivery?: DeliverySettings;
}

interface Worker {
  channel: NotificationChannel;
  pacing: ChannelPacing;
  bucket: TokenBucket;
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
  private readonly recipients: RecipientStore;
  private readonly recipientBuckets: KeyedBuckets;
  private unlisten: (() => void) | null = null;

  constructor(private readonly opts: DispatcherOptions) {
    this.timers = opts.timers ?? defaultTimers;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.recipients = new RecipientStore(opts.outbox.db);
    const delivery = opts.delivery ?? this.recipients.settings()?.delivery ?? null;
    this.recipientBuckets = new KeyedBuckets(delivery?.perRecipient ?? DEFAULT_RECIPIENT_RATE);
    const nowMs = opts.now().getTime();
    this.workers = opts.channels.map((channel) => {
      const pacing = pacingFor(channel.id, channel.kind, delivery);
      return { channel, pacing, bucket: new TokenBucket(pacing.rate, nowMs), timer: null, running: null, again: false };
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unlisten = this.opts.outbox.onEnqueue(() => this.kick());
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
    this.unlisten?.();
    this.unlisten = null;
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, ms));
  }

  /** Sends every row that is due, up to `concurrency` at once, until none is due or the dispatcher stops. */
  private async pass(w: Worker): Promise<void> {
    const { outbox } = this.opts;
    const log = this.opts.logger;
    const { channel } = w;
    const inflight = new Map<number, Promise<void>>();
    const results: SendResult[] = [];
    let flushedAt = performance.now();
    const flush = () => {
      flushedAt = performance.now();
      if (results.length > 0) outbox.applyResults(results.splice(0));
    };
    try {
      for (;;) {
        flush();
        if (!this.started) return;
        const superseded = outbox.supersedeStale(channel.id);
        if (superseded > 0) log.info({ channelId: channel.id, rows: superseded }, 'stale notifications superseded');
        // Rows in flight are still pending in the database: ask for more and skip them.
        const rows = outbox.due(channel.id, this.opts.now().getTime(), BATCH + inflight.size).filter((r) => !inflight.has(r.id));
        if (rows.length === 0) {
          if (inflight.size === 0) return;
          await Promise.race(inflight.values());
          continue;
        }
        for (const row of rows) {
          while (inflight.size >= w.pacing.concurrency) await Promise.race(inflight.values());
          if (results.length >= FLUSH_EVERY || (results.length > 0 && performance.now() - flushedAt >= FLUSH_AFTER_MS)) flush();
          if (!this.started) return;
          // A newer message of the same alert may have been queued while this batch was sending.
          if (outbox.supersedeIfStale(row.id, row.change)) {
            log.info({ channelId: channel.id, outboxId: row.id }, 'stale notification superseded');
            continue;
          }
          const message = this.messageFor(row, results);
          if (message === null) continue;
          for (let wait = w.bucket.take(this.opts.now().getTime()); wait > 0; wait = w.bucket.take(this.opts.now().getTime())) {
            await this.sleep(wait);
            if (!this.started) return;
          }
          const p = this.sendOne(w, row, message).then((r) => {
            results.push(r);
            inflight.delete(row.id);
          });
          inflight.set(row.id, p);
        }
      }
    } finally {
      await Promise.all(inflight.values());
      flush();
    }
  }

  /**
   * The message for a row, or null when it is not sent now: its recipient left (`cancelled`) or
   * their bucket is empty (`deferred` to when a token is back; no attempt is counted).
   */
  private messageFor(row: OutboxRow, results: SendResult[]): OutboundNotification | null {
    if (row.recipientId === '') return { dedupeKey: row.dedupeKey, payload: row.payload };
    const who = this.recipients.addressOf(row.recipientId);
    if (!who) {
      results.push({ id: row.id, outcome: 'cancelled', reason: 'recipient left' });
      return null;
    }
    const nowMs = this.opts.now().getTime();
    const wait = this.recipientBuckets.take(row.recipientId, nowMs);
    if (wait > 0) {
      results.push({ id: row.id, outcome: 'deferred', nextAttemptAtMs: nowMs + wait });
      return null;
    }
    return {
      dedupeKey: row.dedupeKey,
      payload: row.payload,
      recipient: {
        id: row.recipientId,
        address: who.address,
        language: who.language,
        text: row.text ?? '',
        ...(row.subject !== null ? { subject: row.subject } : {}),
      },
    };
  }

  private async sendOne(w: Worker, row: OutboxRow, message: OutboundNotification): Promise<SendResult> {
    const log = this.opts.logger;
    const { channel } = w;
    const attempts = row.attempts + 1;
    try {
      await channel.send(message);
      log.debug({ channelId: channel.id, outboxId: row.id, attempts }, 'notification sent');
      return { id: row.id, outcome: 'sent', attempts, at: this.opts.now() };
    } catch (err) {
      // Channel errors may quote the address: masked before it is logged or stored.
      const error = redactAddresses(err instanceof Error ? err.message : String(err));
      const code = (err as { code?: unknown } | null)?.code;
      if (attempts >= channel.maxAttempts) {
        log.error({ channelId: channel.id, outboxId: row.id, recipientId: row.recipientId, attempts, code, error }, 'notification failed for good');
        return { id: row.id, outcome: 'failed', attempts, error };
      }
      log.warn({ channelId: channel.id, outboxId: row.id, recipientId: row.recipientId, attempts, code, error }, 'notification attempt failed');
      return { id: row.id, outcome: 'retry', attempts, nextAttemptAtMs: this.opts.now().getTime() + backoffDelayMs(attempts, this.backoff), error };
    }
  }
}
