/**
 * Error classes of the server core. Each has a stable `code` (for logs, the HTTP API and tests)
 * and keeps the original error as `cause`. Bad input is never thrown past an input path: these
 * are for config, storage and programming errors.
 */

/** Base class: a stable machine code, a human message and an optional cause. */
export class ServerError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The config file or object is invalid; `lines` are `path: message`, one per problem. */
export class ConfigError extends ServerError {
  readonly lines: readonly string[];

  constructor(lines: readonly string[], options?: { cause?: unknown }) {
    super('CONFIG_INVALID', lines.join('\n'), options);
    this.lines = lines;
  }
}

/** The database could not be opened, migrated or written. */
export class StorageError extends ServerError {}
