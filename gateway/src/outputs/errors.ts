/** Errors of local outputs, with a stable `code`. */
export class OutputError extends Error {
  constructor(
    readonly code: 'gpio_failed' | 'command_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutputError';
  }
}
