/**
 * The one pino root logger of a server process. Components take child loggers with bindings
 * (`component`, `gatewayId`, ...); messages are constant strings with structured fields, and
 * never carry passwords, hashes or phone numbers.
 */
import pino from 'pino';

export interface LoggerOptions {
  /** pino level; default `info`, or `LOG_LEVEL` from the environment. */
  level?: string;
  /** Human-readable output through pino-pretty (for a terminal); JSON lines otherwise. */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): pino.Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  if (options.pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } });
  }
  return pino({ level });
}
