/**
 * Notification channels are small plugins: a `kind`, created from its config entry, with one
 * `send`. A channel throws (ideally a `NotifyError`) when delivery failed and may be retried;
 * the dispatcher owns retries, back-off and bookkeeping, so channels stay stateless.
 */
import type { Logger } from 'pino';
import type { ChannelConfig } from '../config/schema.ts';
import type { NotificationPayload } from './outbox.ts';

/** One message to deliver. */
export interface OutboundNotification {
  /** The outbox row's dedupe key: stable across retries (webhooks send it as `Idempotency-Key`). */
  dedupeKey: string;
  payload: NotificationPayload;
  /**
   * The person this copy is for, when the channel delivers to people (SMS, e-mail) rather than
   * to systems (webhook, console). `text` is already rendered for them (language, length).
   */
  recipient?: {
    /** Recipient row id (never a phone number: logs may print it). */
    id: string;
    /** Channel address: E.164 phone number (`+62…`), e-mail address, chat id. */
    address: string;
    language: 'id' | 'en' | 'su';
    text: string;
    /** E-mail subject or similar; channels without one ignore it. */
    subject?: string;
  };
}

/** A delivery channel instance. */
export interface NotificationChannel {
  /** Config id, unique among channels (part of the dedupe key). */
  readonly id: string;
  readonly kind: ChannelConfig['kind'];
  /** Attempts before the outbox row is marked `failed`. */
  readonly maxAttempts: number;
  /** Resolves when delivered; rejects when the attempt failed. */
  send(message: OutboundNotification): Promise<void>;
}

/** What channels may use; no I/O happens at creation. */
export interface ChannelContext {
  logger: Logger;
  now: () => Date;
  fetchImpl: typeof fetch;
  /** Where the console channel writes its lines. */
  consoleWriter: (text: string) => void;
}

/** Delivery failed; `retryable` is informative (the dispatcher retries until `maxAttempts`). */
export class NotifyError extends Error {
  constructor(
    readonly code: 'WEBHOOK_HTTP_STATUS' | 'WEBHOOK_TIMEOUT' | 'WEBHOOK_NETWORK' | 'CONSOLE_WRITE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NotifyError';
  }
}
