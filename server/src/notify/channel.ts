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
  /**
   * Optional (issue 5): opens long-lived resources (the modem's serial port, to hear `STOP`
   * replies before the first send). Channels also open lazily on the first send.
   */
  start?(): void;
  /** Optional: releases sockets and ports; sends after it fail. */
  close?(): Promise<void>;
  /** Optional: health for metrics (modem signal, SIM, registration; error counters). */
  health?(): ChannelHealth;
}

/** A channel's health snapshot: flat numbers and strings, ready for metrics labels. */
export interface ChannelHealth {
  /** Sends that failed, by `NotifyError` code. */
  errors: Record<string, number>;
  [key: string]: unknown;
}

/** What channels may use; no I/O happens at creation. */
export interface ChannelContext {
  logger: Logger;
  now: () => Date;
  fetchImpl: typeof fetch;
  /** Where the console channel writes its lines. */
  consoleWriter: (text: string) => void;
  /** Issue 5, siren channel: publishes on the MQTT broker; rejects when it cannot. */
  publish?: (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => Promise<void>;
  /** Issue 5, siren channel: gateways of an area's sites (from config) when the channel lists none. */
  gatewaysOfArea?: (areaId: string) => readonly string[];
  /** Issue 5, modem channel: an SMS `STOP`/`BERHENTI` came from this E.164 number. */
  onStopRequest?: (phone: string) => void;
}

/** Issue 5 channel error codes (server/src/notify/README.md lists what each means). */
export type ChannelErrorCode =
  | 'NO_RECIPIENT'
  | 'CHANNEL_CLOSED'
  | 'MODEM_PORT'
  | 'MODEM_TIMEOUT'
  | 'MODEM_NO_SIM'
  | 'MODEM_SIM_PIN'
  | 'MODEM_NO_NETWORK'
  | 'MODEM_SEND_FAILED'
  | 'MODEM_BAD_NUMBER'
  | 'MODEM_ERROR'
  | 'HTTP_GATEWAY_STATUS'
  | 'HTTP_GATEWAY_REJECTED'
  | 'HTTP_GATEWAY_TIMEOUT'
  | 'HTTP_GATEWAY_NETWORK'
  | 'SMTP_REJECTED'
  | 'SMTP_NETWORK'
  | 'SMTP_TIMEOUT'
  | 'SIREN_NO_BROKER'
  | 'SIREN_NO_TARGET'
  | 'SIREN_PUBLISH';

/** Delivery failed; `retryable` is informative (the dispatcher retries until `maxAttempts`). */
export class NotifyError extends Error {
  /** False when retrying cannot help (bad number, recipient rejected); default true. */
  readonly retryable: boolean;
  constructor(
    readonly code: 'WEBHOOK_HTTP_STATUS' | 'WEBHOOK_TIMEOUT' | 'WEBHOOK_NETWORK' | 'CONSOLE_WRITE' | ChannelErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
    this.name = 'NotifyError';
  }
}
