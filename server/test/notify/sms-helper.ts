/**
 * A stand-in for an HTTP SMS gateway channel (helper F writes the real one) and a receiver on
 * 127.0.0.1:0 that counts deliveries per phone number and per Idempotency-Key.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NotifyError, type NotificationChannel } from '../../src/notify/channel.ts';

export function testSmsChannel(id: string, url: string, maxAttempts = 3): NotificationChannel {
  return {
    id,
    kind: 'http-gateway' as NotificationChannel['kind'],
    maxAttempts,
    async send(m) {
      if (!m.recipient) throw new NotifyError('WEBHOOK_HTTP_STATUS', 'no recipient');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': m.dedupeKey },
        body: JSON.stringify({ to: m.recipient.address, text: m.recipient.text }),
      });
      await res.body?.cancel();
      if (res.status !== 200) throw new NotifyError('WEBHOOK_HTTP_STATUS', `gateway answered HTTP ${res.status} for ${m.recipient.address}`);
    },
  };
}

export async function startSmsReceiver(status: (to: string) => number = () => 200) {
  const byTo = new Map<string, string[]>();
  const keys = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { to, text } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string; text: string };
      const code = status(to);
      if (code === 200) {
        byTo.set(to, [...(byTo.get(to) ?? []), text]);
        const k = String(req.headers['idempotency-key']);
        keys.set(k, (keys.get(k) ?? 0) + 1);
      }
      res.statusCode = code;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`,
    byTo,
    keys,
    total: () => [...byTo.values()].reduce((n, l) => n + l.length, 0),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
