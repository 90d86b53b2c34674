/**
 * A local HTTP SMS gateway stand-in, run as its own process (so it does not share the event
 * loop with the code under test): counts deliveries per recipient (the body's `to`, else the last
 * `:`-segment of the Idempotency-Key, which is the recipient id) and per Idempotency-Key,
 * answers 200. Talks to its parent over IPC: sends `{ port }` when listening, answers
 * `'stats'` with `{ requests, perTo, perKey }`. Used by the fan-out bench and chaos test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const perTo = new Map<string, number>();
const perKey = new Map<string, number>();
let requests = 0;
/** Optional artificial latency per request, ms (argv[2]): lets a test kill the server mid-fan-out. */
const delayMs = Number(process.argv[2] ?? 0) || 0;

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    const answer = () => {
      try {
        const parsed = JSON.parse(body) as { to?: unknown; recipient?: { address?: unknown } };
        const key = String(req.headers['idempotency-key'] ?? '');
        // SMS gateway bodies name the number; a webhook body does not, but its key ends with the recipient id.
        // (A webhook body has `to` too: the level. Only a phone number counts as an address.)
        const to = typeof parsed.to === 'string' && parsed.to.startsWith('+') ? parsed.to : typeof parsed.recipient?.address === 'string' ? parsed.recipient.address : key.split(':').at(-1);
        if (!to) throw new Error('no recipient');
        requests++;
        perTo.set(to, (perTo.get(to) ?? 0) + 1);
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        res.end('{"status":"queued"}');
      } catch {
        res.statusCode = 400;
        res.end('{"status":"bad request"}');
      }
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('message', (msg) => {
  if (msg === 'stats') process.send?.({ requests, perTo: [...perTo], perKey: [...perKey] });
  if (msg === 'reset') {
    perTo.clear();
    perKey.clear();
    requests = 0;
    process.send?.({ reset: true });
  }
});
process.on('disconnect', () => process.exit(0));
