import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { channelSchema } from '../../../src/config/schema.ts';
import { NotifyError, type OutboundNotification } from '../../../src/notify/channel.ts';
import { createHttpGatewayChannel, type HttpGatewayConfig } from '../../../src/notify/channels/http-gateway-channel.ts';
import { silentLogger } from '../../helpers/fixtures.ts';
import { samplePayload } from '../fixtures.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function provider(handler: (seen: Seen, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function channel(input: Record<string, unknown>) {
  const config = channelSchema.parse({ kind: 'http-gateway', ...input }) as HttpGatewayConfig;
  const ch = createHttpGatewayChannel(config, { logger: silentLogger });
  closers.push(() => ch.close!());
  return ch;
}

const msg = (text = 'AWAS BANJIR "Cikeruh" & segera mengungsi\nBPBD', address = '+6281234567890'): OutboundNotification => ({
  dedupeKey: 'a1:opened:Awas:sms:r-1',
  payload: samplePayload(),
  recipient: { id: 'r-1', address, language: 'id', text, subject: 'Peringatan' },
});

async function failure(p: Promise<unknown>): Promise<NotifyError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotifyError);
  return err as NotifyError;
}

describe('http-gateway channel', () => {
  it('posts the JSON template with escaped values and the idempotency key', async () => {
    const p = await provider((_, res) => res.end('{"ok":true}'));
    const ch = channel({ url: `${p.url}/send`, headers: { Authorization: 'Bearer k3y' } });
    await ch.send(msg());
    expect(p.seen).toHaveLength(1);
    const s = p.seen[0]!;
    expect(s.method).toBe('POST');
    expect(s.headers['content-type']).toBe('application/json');
    expect(s.headers.authorization).toBe('Bearer k3y');
    expect(s.headers['idempotency-key']).toBe('a1:opened:Awas:sms:r-1');
    expect(JSON.parse(s.body)).toEqual({ to: '+6281234567890', text: 'AWAS BANJIR "Cikeruh" & segera mengungsi\nBPBD', id: 'a1:opened:Awas:sms:r-1' });
  });

  it('form-encodes the body and URL-encodes a GET query', async () => {
    const p = await provider((_, res) => res.end('OK'));
    const form = channel({ id: 'form', url: `${p.url}/f`, bodyFormat: 'form', bodyTemplate: 'to={to}&msg={text}' });
    await form.send(msg('a&b=c ü'));
    expect(p.seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const params = new URLSearchParams(p.seen[0]!.body);
    expect(params.get('to')).toBe('+6281234567890');
    expect(params.get('msg')).toBe('a&b=c ü');
    const get = channel({ id: 'get', method: 'GET', url: `${p.url}/g?to={to}&text={text}` });
    await get.send(msg('x&y #1'));
    const u = new URL(p.seen[1]!.url, p.url);
    expect(p.seen[1]!.method).toBe('GET');
    expect(u.searchParams.get('to')).toBe('+6281234567890');
    expect(u.searchParams.get('text')).toBe('x&y #1');
  });

  it('maps status codes: 4xx not retryable, 5xx and 429 retryable', async () => {
    let code = 400;
    const p = await provider((_, res) => {
      res.statusCode = code;
      res.end();
    });
    const ch = channel({ url: p.url });
    const e400 = await failure(ch.send(msg()));
    expect([e400.code, e400.retryable]).toEqual(['HTTP_GATEWAY_STATUS', false]);
    code = 503;
    const e503 = await failure(ch.send(msg()));
    expect([e503.code, e503.retryable]).toEqual(['HTTP_GATEWAY_STATUS', true]);
    code = 429;
    expect((await failure(ch.send(msg()))).retryable).toBe(true);
    expect(ch.health!().errors).toEqual({ HTTP_GATEWAY_STATUS: 3 });
  });

  it('checks a JSON path and a regex in the answer body', async () => {
    let answer = '{"result":{"status":"queued"}}';
    const p = await provider((_, res) => res.end(answer));
    const json = channel({ id: 'j', url: p.url, successJsonPath: 'result.status', successEquals: 'queued' });
    await json.send(msg());
    answer = '{"result":{"status":"failed","reason":"no balance"}}';
    expect((await failure(json.send(msg()))).code).toBe('HTTP_GATEWAY_REJECTED');
    answer = '<html><body>502 Bad Gateway</body></html>';
    expect((await failure(json.send(msg()))).code).toBe('HTTP_GATEWAY_REJECTED');
    const rx = channel({ id: 'r', url: p.url, successRegex: '^OK:\\d+' });
    answer = 'OK:123';
    await rx.send(msg());
    answer = 'ERR:45';
    expect((await failure(rx.send(msg()))).code).toBe('HTTP_GATEWAY_REJECTED');
  });

  it('survives a huge answer body and a provider that hangs', async () => {
    const p = await provider((s, res) => {
      if (s.url === '/hang') return; // never answers
      res.write('OK ');
      res.end('x'.repeat(5 * 1024 * 1024));
    });
    const huge = channel({ id: 'h', url: `${p.url}/huge`, successRegex: '^OK' });
    await huge.send(msg());
    const hang = channel({ id: 'hang', url: `${p.url}/hang`, timeoutMs: 200 });
    const t0 = Date.now();
    const e = await failure(hang.send(msg()));
    expect(e.code).toBe('HTTP_GATEWAY_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(hang.health!().errors).toEqual({ HTTP_GATEWAY_TIMEOUT: 1 });
  });

  it('reports a refused connection as a retryable network error, and needs a recipient', async () => {
    const p = await provider((_, res) => res.end());
    const port = new URL(p.url).port;
    await closers.pop()!();
    const ch = channel({ url: `http://127.0.0.1:${port}/` });
    const e = await failure(ch.send(msg()));
    expect([e.code, e.retryable]).toEqual(['HTTP_GATEWAY_NETWORK', true]);
    const none = await failure(ch.send({ dedupeKey: 'k', payload: samplePayload() }));
    expect([none.code, none.retryable]).toEqual(['NO_RECIPIENT', false]);
  });

  it('does not let a header value inject a new header', async () => {
    const p = await provider((_, res) => res.end());
    const ch = channel({ url: p.url, headers: { 'X-To': '{to}' } });
    await ch.send(msg('x', '+62812\r\nX-Evil: 1'));
    expect(p.seen[0]!.headers['x-evil']).toBeUndefined();
  });

  it('sends 2,000 messages over at most maxSockets keep-alive connections', async () => {
    const ports = new Set<number>();
    const p = await provider((_, res) => {
      ports.add(res.req.socket.remotePort ?? 0);
      res.end('OK');
    });
    const ch = channel({ url: p.url, maxSockets: 16 });
    const t0 = performance.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) all.push(ch.send({ ...msg(), dedupeKey: `k${i}` }));
    await Promise.all(all);
    const ms = performance.now() - t0;
    expect(new Set(p.seen.map((s) => s.headers['idempotency-key'])).size).toBe(2000);
    expect(ports.size).toBeLessThanOrEqual(16);
    // Loose bound for a loaded 2-core machine; G's fan-out bench measures the real figure.
    expect(ms).toBeLessThan(8000);
  });
});
