/**
 * Token buckets for delivery pacing. A bucket holds up to `burst` tokens and gains `perSecond`
 * per second; a send takes one. When none is left the send WAITS (never dropped): the channel
 * worker sleeps until the next token, and a recipient's row is deferred (its `next_attempt_at`
 * moves) so other recipients keep going meanwhile.
 *
 * Defaults (config `notify.delivery`, see server/README.md "Notifications"):
 * - per recipient: burst 5, 0.05/s (one per 20 s after the burst): a fast Waspada -> Siaga ->
 *   Awas -> all-clear sequence goes out at once, a flapping sensor cannot flood a phone;
 * - per channel: concurrency 16, burst 200, 100/s; a GSM modem channel: concurrency 1, burst 5,
 *   0.5/s (the modem needs seconds per SMS anyway; HTTP SMS gateways publish their own limits).
 * Buckets live in memory: after a restart they start full (a restart is rare, and the outbox
 * keeps order and dedupe; only the pacing restarts).
 */
export interface BucketOptions {
  burst: number;
  perSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly opts: BucketOptions,
    nowMs: number,
  ) {
    this.tokens = opts.burst;
    this.last = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.opts.burst, this.tokens + ((nowMs - this.last) / 1000) * this.opts.perSecond);
      this.last = nowMs;
    }
  }

  /** Takes a token and returns 0, or returns the ms until one is available (taking nothing). */
  take(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.opts.perSecond) * 1000));
  }

  /** True when the bucket is full again (it can be forgotten). */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.opts.burst;
  }
}

/** One bucket per key (recipient), pruned of full buckets so memory stays bounded by activity. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly opts: BucketOptions) {}

  take(key: string, nowMs: number): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 100_000) this.prune(nowMs);
      this.buckets.set(key, (b = new TokenBucket(this.opts, nowMs)));
    }
    return b.take(nowMs);
  }

  private prune(nowMs: number): void {
    for (const [k, b] of this.buckets) if (b.isFull(nowMs)) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** Per-channel pacing. */
export interface ChannelPacing {
  concurrency: number;
  rate: BucketOptions;
}

export const DEFAULT_CHANNEL_PACING: ChannelPacing = { concurrency: 16, rate: { burst: 200, perSecond: 100 } };
export const MODEM_CHANNEL_PACING: ChannelPacing = { concurrency: 1, rate: { burst: 5, perSecond: 0.5 } };
export const DEFAULT_RECIPIENT_RATE: BucketOptions = { burst: 5, perSecond: 0.05 };

/** Delivery settings as in config `notify.delivery`. */
export interface DeliverySettings {
  perRecipient: BucketOptions;
  defaultChannel: ChannelPacing;
  channels: Record<string, ChannelPacing>;
}

/** The pacing of one channel: its own entry, else the modem default for modem kinds, else the default. */
export function pacingFor(channelId: string, kind: string, delivery: DeliverySettings | null): ChannelPacing {
  const own = delivery?.channels[channelId];
  if (own) return own;
  if (/modem|gsm/i.test(kind)) return MODEM_CHANNEL_PACING;
  return delivery?.defaultChannel ?? DEFAULT_CHANNEL_PACING;
}
