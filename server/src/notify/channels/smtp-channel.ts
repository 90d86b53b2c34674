/**
 * The e-mail channel: one message per recipient through an SMTP server (nodemailer 7, pooled
 * connections). Subject is `recipient.subject` (else the first line of the text), body is
 * `recipient.text` as plain UTF-8 text; the outbox dedupe key goes into `Message-ID` (stable
 * across retries, so a mail system that saw it can drop the duplicate).
 *
 * Errors: a recipient the server refuses with a 5xx answer (`550 no such user`) is not retryable
 * (`SMTP_REJECTED`); 4xx answers (greylisting, mailbox busy), connection errors and timeouts are
 * (`SMTP_NETWORK`, `SMTP_TIMEOUT`).
 */
import nodemailer from 'nodemailer';
import type { ChannelConfig } from '../../config/schema.ts';
import { NotifyError, type ChannelContext, type NotificationChannel } from '../channel.ts';
import { ErrorCounter } from './error-counter.ts';

export type SmtpConfig = Extract<ChannelConfig, { kind: 'smtp' }>;

interface SmtpErrorLike {
  code?: string;
  responseCode?: number;
  message?: string;
}

/** The NotifyError for a nodemailer error. */
export function smtpError(err: unknown): NotifyError {
  const e = (err ?? {}) as SmtpErrorLike;
  const rc = typeof e.responseCode === 'number' ? e.responseCode : 0;
  if (rc >= 500) return new NotifyError('SMTP_REJECTED', `mail server refused: ${rc}`, { cause: err, retryable: false });
  if (rc >= 400) return new NotifyError('SMTP_REJECTED', `mail server deferred: ${rc}`, { cause: err, retryable: true });
  if (e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new NotifyError('SMTP_TIMEOUT', 'mail server timed out', { cause: err });
  }
  return new NotifyError('SMTP_NETWORK', `mail server unreachable: ${e.code ?? 'error'}`, { cause: err });
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

export function createSmtpChannel(config: SmtpConfig, ctx: Pick<ChannelContext, 'logger'>): NotificationChannel {
  const log = ctx.logger.child({ channelId: config.id });
  const errors = new ErrorCounter();
  let sent = 0;
  // Created lazily: no I/O at creation, and nodemailer connects only when sending anyway.
  let transport: nodemailer.Transporter | null = null;
  const getTransport = () =>
    (transport ??= nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: config.requireTls,
      ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.pass } } : {}),
      pool: true,
      maxConnections: 4,
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
      // Local relays often use self-signed certificates; STARTTLS still encrypts.
      tls: { rejectUnauthorized: config.requireTls },
      logger: false,
    }));

  return {
    id: config.id,
    kind: 'smtp',
    maxAttempts: config.maxAttempts,
    async send({ dedupeKey, recipient }) {
      try {
        if (!recipient) throw new NotifyError('NO_RECIPIENT', 'smtp needs a recipient', { retryable: false });
        const info = await getTransport()
          .sendMail({
            from: config.from,
            to: recipient.address,
            subject: recipient.subject ?? firstLine(recipient.text),
            text: recipient.text,
            messageId: `<${dedupeKey.replace(/[^A-Za-z0-9._:-]/g, '_')}@kentongan>`,
            headers: { 'Content-Language': recipient.language },
          })
          .catch((err: unknown) => {
            throw smtpError(err);
          });
        // With one recipient a refusal rejects the send; this covers servers that accept partially.
        if (info.rejected.length > 0) throw new NotifyError('SMTP_REJECTED', 'mail server refused the recipient', { retryable: false });
        sent++;
      } catch (err) {
        errors.count(err);
        log.debug({ code: (err as NotifyError).code }, 'e-mail not sent');
        throw err;
      }
    },
    /** Closes the pooled connections; a later send connects again. */
    async close() {
      transport?.close();
      transport = null;
    },
    health: () => ({ errors: errors.snapshot(), sent }),
  };
}
