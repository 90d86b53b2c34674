/** A real HTTP receiver on 127.0.0.1:0 that records requests and answers as scripted. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * `respond(n, key)` picks the status for the n-th request (1-based) carrying Idempotency-Key
 * `key`; return `'hang'` to never answer (for timeouts).
 */
export async function startReceiver(respond: (n: number, key: string) => number | 'hang') {
  const received: Received[] = [];
  const perKey = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const n = (perKey.get(key) ?? 0) + 1;
      perKey.set(key, n);
      const status = respond(n, key);
      if (status === 'hang') return;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.statusCode = status;
      if (status >= 300 && status < 400) res.setHeader('location', 'http://127.0.0.1:1/elsewhere');
      res.end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Deliveries answered 2xx, by Idempotency-Key. */
    deliveredPerKey(): Map<string, number> {
      const out = new Map<string, number>();
      for (const r of received) {
        if (r.status < 200 || r.status > 299) continue;
        const k = String(r.headers['idempotency-key']);
        out.set(k, (out.get(k) ?? 0) + 1);
      }
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
