import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { channelSchema } from '../../../src/config/schema.ts';
import { NotifyError, type OutboundNotification } from '../../../src/notify/channel.ts';
import { createSmtpChannel, type SmtpConfig } from '../../../src/notify/channels/smtp-channel.ts';
import { silentLogger } from '../../helpers/fixtures.ts';
import { samplePayload } from '../fixtures.ts';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

async function mailServer(opts: { slowMs?: number } = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('nobody@')) {
        const err = new Error('5.1.1 no such user') as Error & { responseCode: number };
        err.responseCode = 550;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const done = () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          cb();
        };
        if (opts.slowMs) setTimeout(done, opts.slowMs);
        else done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  const close = () => new Promise<void>((r) => server.close(() => r()));
  closers.push(close);
  return { port, mails, close };
}

function channel(port: number, extra: Record<string, unknown> = {}) {
  const config = channelSchema.parse({ kind: 'smtp', host: '127.0.0.1', port, from: '"BPBD Sumedang" <ews@bpbd.example>', ...extra }) as SmtpConfig;
  const ch = createSmtpChannel(config, { logger: silentLogger });
  closers.unshift(() => ch.close!());
  return ch;
}

const msg = (address: string): OutboundNotification => ({
  dedupeKey: 'a1:opened:Siaga:mail:s-op',
  payload: samplePayload(),
  recipient: { id: 's-op', address, language: 'id', text: 'SIAGA BANJIR Jatinangor 14:05 WIB\nSiapkan evakuasi. -BPBD', subject: 'SIAGA BANJIR Jatinangor' },
});

async function failure(p: Promise<unknown>): Promise<NotifyError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotifyError);
  return err as NotifyError;
}

describe('smtp channel', () => {
  it('delivers a UTF-8 mail with subject, text and a stable Message-ID', async () => {
    const s = await mailServer();
    const ch = channel(s.port);
    await ch.send(msg('operator@bpbd.example'));
    expect(s.mails).toHaveLength(1);
    const m = s.mails[0]!;
    expect(m.from).toBe('ews@bpbd.example');
    expect(m.to).toEqual(['operator@bpbd.example']);
    expect(m.raw).toMatch(/^Subject: SIAGA BANJIR Jatinangor\r?$/m);
    expect(m.raw).toContain('Siapkan evakuasi');
    expect(m.raw).toMatch(/^Message-ID: <a1:opened:Siaga:mail:s-op@kentongan>\r?$/m);
    expect(ch.health!()).toMatchObject({ sent: 1, errors: {} });
  });

  it('a refused recipient is a non-retryable SMTP_REJECTED', async () => {
    const s = await mailServer();
    const ch = channel(s.port);
    const e = await failure(ch.send(msg('nobody@bpbd.example')));
    expect([e.code, e.retryable]).toEqual(['SMTP_REJECTED', false]);
    // The pooled connection still works for the next recipient.
    await ch.send(msg('operator@bpbd.example'));
    expect(s.mails).toHaveLength(1);
  });

  it('a server that is down is a retryable SMTP_NETWORK error', async () => {
    const s = await mailServer();
    await s.close();
    closers = closers.filter((c) => c !== s.close);
    const ch = channel(s.port, { timeoutMs: 1000 });
    const e = await failure(ch.send(msg('operator@bpbd.example')));
    expect([e.code, e.retryable]).toEqual(['SMTP_NETWORK', true]);
    expect(ch.health!().errors).toEqual({ SMTP_NETWORK: 1 });
  });

  it('a server slower than the timeout fails with SMTP_TIMEOUT instead of hanging', async () => {
    const s = await mailServer({ slowMs: 1500 });
    const ch = channel(s.port, { timeoutMs: 300 });
    const t0 = Date.now();
    const e = await failure(ch.send(msg('operator@bpbd.example')));
    expect(e.code).toBe('SMTP_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(1400);
  });
});
