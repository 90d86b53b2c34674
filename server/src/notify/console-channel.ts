/**
 * The console channel: one line per message (Bahasa | English) on an injected writer, by
 * default stdout. Used by the demo and as the always-available fallback.
 */
import type { ChannelConfig } from '../config/schema.ts';
import { NotifyError, type ChannelContext, type NotificationChannel } from './channel.ts';

/** Writes one chunk of text (the channel adds the newline). */
export type LineWriter = (text: string) => void;

export const defaultConsoleWriter: LineWriter = (text) => {
  process.stdout.write(text);
};

/** Writing to a console rarely fails; a few tries are enough. */
const CONSOLE_MAX_ATTEMPTS = 3;

/** Names in config may hold line breaks; one message must stay one line. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

export function createConsoleChannel(
  config: Extract<ChannelConfig, { kind: 'console' }>,
  ctx: Pick<ChannelContext, 'consoleWriter'>,
): NotificationChannel {
  return {
    id: config.id,
    kind: 'console',
    maxAttempts: CONSOLE_MAX_ATTEMPTS,
    async send({ payload }) {
      try {
        ctx.consoleWriter(`${oneLine(payload.message.id)} | ${oneLine(payload.message.en)}\n`);
      } catch (err) {
        throw new NotifyError('CONSOLE_WRITE', 'console write failed', { cause: err });
      }
    },
  };
}
