/** Errors of the recipients module, with stable codes the HTTP layer maps to statuses. */
export type RecipientErrorCode =
  | 'INVALID_PHONE'
  | 'INVALID_EMAIL'
  | 'UNKNOWN_AREA'
  | 'UNKNOWN_CHANNEL'
  | 'NOT_A_PEOPLE_CHANNEL'
  | 'UNKNOWN_SUBSCRIPTION'
  | 'WRONG_CODE'
  | 'CODE_EXPIRED'
  | 'TOO_MANY_ATTEMPTS'
  | 'TOO_MANY_REQUESTS';

export class RecipientError extends Error {
  constructor(
    readonly code: RecipientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RecipientError';
  }
}

/** HTTP status for each code (used by routes/recipients.ts). */
export const RECIPIENT_ERROR_STATUS: Record<RecipientErrorCode, number> = {
  INVALID_PHONE: 400,
  INVALID_EMAIL: 400,
  UNKNOWN_AREA: 400,
  UNKNOWN_CHANNEL: 400,
  NOT_A_PEOPLE_CHANNEL: 400,
  UNKNOWN_SUBSCRIPTION: 404,
  WRONG_CODE: 400,
  CODE_EXPIRED: 410,
  TOO_MANY_ATTEMPTS: 429,
  TOO_MANY_REQUESTS: 429,
};
