/**
 * The webhook channel: POSTs a JSON document to a configured URL.
 *
 * Body: `{ v: 1, alert, change, from, to, actor, at, message: { id, en }, sentAt }`.
 * Headers: `Content-Type: application/json`, `Idempotency-Key: <outbox dedupe key>` (the same on
 * every retry, so receivers can drop duplicates of at-least-once delivery) and, when a secret is
 * configured, `X-Kentongan-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>` (the
 * GitHub-style scheme). 2xx = delivered; any other status, a network error or the timeout = retry.
 * Redirects are not followed: a moved endpoint is a config error that should show up as failures.
 */
import { createHmac } from 'node:crypto';
import type { ChannelConfig } from '../config/schema.ts';
import { NotifyError, type ChannelContext, type NotificationChannel } from './channel.ts';

export const SIGNATURE_HEADER = 'X-Kentongan-Signature';

/** `sha256=<hex>` of the body; receivers recompute it with the shared secret. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function createWebhookChannel(
  config: Extract<ChannelConfig, { kind: 'webhook' }>,
  ctx: Pick<ChannelContext, 'fetchImpl' | 'now'>,
): NotificationChannel {
  return {
    id: config.id,
    kind: 'webhook',
    maxAttempts: config.maxAttempts,
    async send({ dedupeKey, payload }) {
      const body = JSON.stringify({ ...payload, sentAt: ctx.now().toISOString() });
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': dedupeKey,
      };
      if (config.secret !== undefined) headers[SIGNATURE_HEADER.toLowerCase()] = signBody(body, config.secret);
      let res: Response;
      try {
        res = await ctx.fetchImpl(config.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (err) {
        const name = (err as { name?: string } | null)?.name;
        if (name === 'TimeoutError' || name === 'AbortError') {
          throw new NotifyError('WEBHOOK_TIMEOUT', `webhook timed out after ${config.timeoutMs} ms`, { cause: err });
        }
        throw new NotifyError('WEBHOOK_NETWORK', `webhook request failed: ${(err as Error).message}`, { cause: err });
      }
      // The body is not needed; release the connection either way.
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) {
        throw new NotifyError('WEBHOOK_HTTP_STATUS', `webhook answered HTTP ${res.status}`);
      }
    },
  };
}
