/** Alert engine errors: classes with stable `code`s that the HTTP layer maps to statuses. */

/** No alert with that id (HTTP 404). */
export class AlertNotFoundError extends Error {
  readonly code = 'ALERT_NOT_FOUND';
  constructor(readonly alertId: string) {
    super(`alert not found: ${alertId}`);
    this.name = 'AlertNotFoundError';
  }
}

/** The alert is resolved; it cannot be acknowledged or resolved again (HTTP 409). */
export class AlertStateError extends Error {
  readonly code = 'ALERT_ALREADY_RESOLVED';
  constructor(readonly alertId: string) {
    super(`alert already resolved: ${alertId}`);
    this.name = 'AlertStateError';
  }
}

/** An operator action with unusable input, e.g. an empty name (HTTP 400). */
export class AlertInputError extends Error {
  readonly code = 'ALERT_INVALID_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'AlertInputError';
  }
}

/**
 * The config cannot drive the alert engine (a rule for an unknown sensor, duplicate channel
 * ids, ...). Thrown by `createAlertEngine` at start-up; `problems` holds `path: message` lines.
 */
export class AlertConfigError extends Error {
  readonly code = 'ALERT_CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`alert config invalid:\n${problems.join('\n')}`);
    this.name = 'AlertConfigError';
  }
}

/** No silence with that id (HTTP 404). */
export class SilenceNotFoundError extends Error {
  readonly code = 'SILENCE_NOT_FOUND';
  constructor(readonly silenceId: string) {
    super(`pemeliharaan tidak dikenal / unknown silence: ${silenceId}`);
    this.name = 'SilenceNotFoundError';
  }
}
