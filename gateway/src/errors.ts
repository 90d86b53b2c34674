/**
 * Error classes of the gateway. Each carries a stable `code` that callers and logs match on,
 * and the underlying `cause` when there is one. Bad data is never an exception here (it is a
 * counted result); these are for configuration mistakes, I/O failures and timeouts.
 */
export type GatewayErrorCode =
  | 'config_unreadable'
  | 'config_invalid'
  | 'store_failed'
  | 'database_invalid'
  | 'drain_timeout'
  | 'stopped';

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

/** A configuration file that cannot be read or does not validate. The message is `path: message` lines. */
export class ConfigError extends GatewayError {
  constructor(code: 'config_unreadable' | 'config_invalid', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ConfigError';
  }
}
