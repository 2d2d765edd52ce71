/**
 * Domain errors carry a code, because the same services run in the worker where HTTP does not
 * exist; HttpErrorFilter maps codes to status codes in one place.
 */
export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_body: 400,
  validation_failed: 400,
  unauthorized: 401,
  signature_invalid: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unprocessable: 422,
  unsupported_media_type: 415,
  queue_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function notFound(what: string): AppError {
  return new AppError('not_found', `${what} not found`);
}
