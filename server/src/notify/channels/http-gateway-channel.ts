/**
 * The generic HTTP SMS/WhatsApp gateway channel: one HTTP request per recipient, built from the
 * configured URL, method, headers and body template (channels/template.ts), with
 * `Idempotency-Key: <dedupe key>` so providers that honour it drop retried duplicates.
 *
 * Delivered when the status is in one of `successStatus` ranges and, when configured, the body's
 * `successJsonPath` equals `successEquals` and/or the body matches `successRegex` (providers
 * that answer 200 with `{"status":"failed"}`). 4xx other than 408/429 is not retryable (a bad
 * number or a bad key will not get better); 5xx, 408, 429, network errors and timeouts are.
 *
 * Speed: node:http(s) with a keep-alive agent (no per-send TLS/TCP handshake, up to `maxSockets`
 * connections), templates compiled once, the body read only when a body check is configured and
 * never beyond 64 KiB (a provider answering with megabytes of HTML cannot exhaust memory).
 */
import http from 'node:http';
import https from 'node:https';
import type { ChannelConfig } from '../../config/schema.ts';
import { NotifyError, type ChannelContext, type NotificationChannel } from '../channel.ts';
import { ErrorCounter } from './error-counter.ts';
import { compileTemplate, type TemplateValues } from './template.ts';

export type HttpGatewayConfig = Extract<ChannelConfig, { kind: 'http-gateway' }>;

/** Longest answer body read for the success checks; the rest is discarded. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** The value at a dotted path of parsed JSON, as a string; undefined when absent. */
export function jsonPathValue(doc: unknown, path: string): string | undefined {
  let cur: unknown = doc;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

interface Answer {
  status: number;
  body: string;
}

export function createHttpGatewayChannel(config: HttpGatewayConfig, ctx: Pick<ChannelContext, 'logger'>): NotificationChannel {
  const url = new URL(config.url.replace(/\{(to|text|id|subject)\}/g, 'x'));
  const isHttps = url.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({ keepAlive: true, maxSockets: config.maxSockets })
    : new http.Agent({ keepAlive: true, maxSockets: config.maxSockets });
  const renderUrl = compileTemplate(config.url, 'url');
  const fixedTarget = /\{(to|text|id|subject)\}/.test(config.url) ? null : new URL(config.url);
  const renderBody = compileTemplate(config.bodyTemplate, config.bodyFormat);
  const headerRenderers = Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), compileTemplate(v, 'header')] as const);
  const contentType = config.bodyFormat === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
  const needBody = config.successJsonPath !== undefined || config.successRegex !== undefined;
  const regex = config.successRegex !== undefined ? new RegExp(config.successRegex) : null;
  const errors = new ErrorCounter();
  const log = ctx.logger.child({ channelId: config.id });
  let sent = 0;

  function request(target: string, headers: Record<string, string>, body: string | null): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const mod = isHttps ? https : http;
      // A fixed URL is parsed once; only a URL with placeholders is parsed per send.
      const where = fixedTarget ?? new URL(target);
      const req = mod.request({
        protocol: where.protocol,
        hostname: where.hostname.replace(/^\[|\]$/g, ''),
        port: where.port,
        path: where.pathname + where.search,
        method: config.method,
        headers,
        agent,
      });
      // One deadline for the whole exchange (connect, headers and body), not per socket event.
      const timer = setTimeout(() => {
        req.destroy(new NotifyError('HTTP_GATEWAY_TIMEOUT', `gateway did not answer within ${config.timeoutMs} ms`));
      }, config.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err instanceof NotifyError ? err : new NotifyError('HTTP_GATEWAY_NETWORK', `gateway request failed: ${err.message}`, { cause: err }));
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (!needBody) {
          res.resume();
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status, body: '' });
          });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size >= MAX_ANSWER_BYTES) return;
          chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') });
        });
      });
      if (body !== null) req.end(body);
      else req.end();
    });
  }

  function check(answer: Answer): void {
    const { status } = answer;
    if (!config.successStatus.some(([lo, hi]) => status >= lo && status <= hi)) {
      const retryable = status >= 500 || status === 408 || status === 429 || status < 200;
      throw new NotifyError('HTTP_GATEWAY_STATUS', `gateway answered HTTP ${status}`, { retryable });
    }
    if (config.successJsonPath !== undefined) {
      let doc: unknown;
      try {
        doc = JSON.parse(answer.body);
      } catch {
        throw new NotifyError('HTTP_GATEWAY_REJECTED', `gateway answer is not JSON (HTTP ${status})`);
      }
      const got = jsonPathValue(doc, config.successJsonPath);
      const ok = config.successEquals === undefined ? got !== undefined : got === config.successEquals;
      if (!ok) throw new NotifyError('HTTP_GATEWAY_REJECTED', `gateway answer ${config.successJsonPath}=${String(got).slice(0, 80)}`);
    }
    if (regex && !regex.test(answer.body)) {
      throw new NotifyError('HTTP_GATEWAY_REJECTED', `gateway answer does not match ${config.successRegex}`);
    }
  }

  return {
    id: config.id,
    kind: 'http-gateway',
    maxAttempts: config.maxAttempts,
    async send({ dedupeKey, recipient }) {
      try {
        if (!recipient) throw new NotifyError('NO_RECIPIENT', 'http-gateway needs a recipient', { retryable: false });
        const values: TemplateValues = { to: recipient.address, text: recipient.text, id: dedupeKey, subject: recipient.subject ?? '' };
        const headers: Record<string, string> = { 'idempotency-key': dedupeKey };
        const body = config.method === 'GET' ? null : renderBody(values);
        if (body !== null) {
          headers['content-type'] = contentType;
          headers['content-length'] = String(Buffer.byteLength(body));
        }
        for (const [k, render] of headerRenderers) headers[k] = render(values);
        check(await request(renderUrl(values), headers, body));
        sent++;
      } catch (err) {
        errors.count(err);
        if (err instanceof NotifyError) throw err;
        throw new NotifyError('HTTP_GATEWAY_NETWORK', `gateway request failed: ${(err as Error).message}`, { cause: err });
      }
    },
    /** Closes the kept-alive sockets; a later send opens new ones. */
    async close() {
      agent.destroy();
      log.debug('http gateway channel closed');
    },
    health: () => ({ errors: errors.snapshot(), sent }),
  };
}
