import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifyError } from '../../src/notify/channel.ts';
import { createWebhookChannel, signBody } from '../../src/notify/webhook-channel.ts';
import { manualClock } from '../alerts/helpers.ts';
import { samplePayload } from './fixtures.ts';
import { startReceiver } from './http-helper.ts';

const SECRET = 'a-shared-secret-of-32-characters';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function receiver(respond: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(respond);
  cleanups.push(r.close);
  return r;
}

function channel(url: string, over: { secret?: string; timeoutMs?: number } = {}) {
  const clock = manualClock();
  return createWebhookChannel(
    { kind: 'webhook', id: 'hook', url, timeoutMs: over.timeoutMs ?? 2000, maxAttempts: 3, ...(over.secret ? { secret: over.secret } : {}) },
    { fetchImpl: fetch, now: clock.now },
  );
}

async function failure(p: Promise<unknown>): Promise<NotifyError> {
  try {
    await p;
  } catch (err) {
    return err as NotifyError;
  }
  throw new Error('expected a failure');
}

describe('webhook channel', () => {
  it('POSTs the documented JSON with an idempotency key and a verifiable HMAC signature', async () => {
    const rx = await receiver(() => 204);
    await channel(rx.url, { secret: SECRET }).send({ dedupeKey: 'alert-1:opened:Siaga:hook', payload: samplePayload() });
    expect(rx.received).toHaveLength(1);
    const req = rx.received[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['idempotency-key']).toBe('alert-1:opened:Siaga:hook');
    // A receiver verifies with its own HMAC of the raw body.
    const expected = `sha256=${createHmac('sha256', SECRET).update(req.body).digest('hex')}`;
    expect(req.headers['x-kentongan-signature']).toBe(expected);
    expect(signBody(req.body, 'another-secret-of-enough-length')).not.toBe(expected);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      v: 1,
      change: 'opened',
      to: 'Siaga',
      alert: { id: 'alert-1', level: 'Siaga' },
      message: { id: 'SIAGA BANJIR ...', en: 'SIAGA FLOOD ...' },
      sentAt: '2026-11-28T07:00:00.000Z',
    });
  });

  it('sends no signature header without a secret', async () => {
    const rx = await receiver(() => 200);
    await channel(rx.url).send({ dedupeKey: 'k', payload: samplePayload() });
    expect(rx.received[0]!.headers['x-kentongan-signature']).toBeUndefined();
  });

  it('fails with a coded error on non-2xx, redirects, timeouts and refused connections', async () => {
    const rx = await receiver((n, key) => (key === 'hang' ? 'hang' : key === 'redirect' ? 302 : 500));
    const ch = channel(rx.url, { timeoutMs: 150 });
    expect((await failure(ch.send({ dedupeKey: 'k', payload: samplePayload() }))).code).toBe('WEBHOOK_HTTP_STATUS');
    expect((await failure(ch.send({ dedupeKey: 'redirect', payload: samplePayload() }))).code).toBe('WEBHOOK_HTTP_STATUS');
    expect((await failure(ch.send({ dedupeKey: 'hang', payload: samplePayload() }))).code).toBe('WEBHOOK_TIMEOUT');
    const closed = await receiver(() => 200);
    await closed.close();
    cleanups.pop();
    const refused = await failure(channel(closed.url).send({ dedupeKey: 'k', payload: samplePayload() }));
    expect(refused).toBeInstanceOf(NotifyError);
    expect(refused.code).toBe('WEBHOOK_NETWORK');
  });
});
