/** One catalogue of failures; http/error-handler.ts and sip/ render them for their protocol. */
export const ErrorCode = {
  validation: 'validation_failed',
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  invalidNumber: 'invalid_number',
  rateLimited: 'rate_limited',
  unavailable: 'service_unavailable',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly httpStatus: number,
    public readonly sipStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

export const ERRORS = {
  validation: (message: string) => new AppError(ErrorCode.validation, message, 400, 400),
  invalidNumber: (input: string) =>
    new AppError(ErrorCode.invalidNumber, `"${input}" is not a valid phone number (expected E.164, e.g. +74951234567)`, 400, 404),
  unauthenticated: () => new AppError(ErrorCode.unauthenticated, 'missing or invalid API key (Authorization: Bearer <key>)', 401, 401),
  forbidden: (need: readonly string[]) => new AppError(ErrorCode.forbidden, `this action needs one of the roles: ${need.join(', ')}`, 403, 403),
  notFound: (what: string, id: string) => new AppError(ErrorCode.notFound, `${what} ${id} not found`, 404, 404),
  numberNotFound: (number: string) => new AppError(ErrorCode.notFound, `number ${number} is not provisioned`, 404, 404),
  conflict: (message: string) => new AppError(ErrorCode.conflict, message, 409, 409),
  rateLimited: () => new AppError(ErrorCode.rateLimited, 'too many requests', 429, 503),
  unavailable: (what: string, cause?: unknown) => new AppError(ErrorCode.unavailable, `${what} is unavailable`, 503, 503, { cause }),
};

/** Postgres unique/exclusion/foreign-key violations that callers turn into 409/400. */
export function pgErrorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string'
    ? (err as { code: string }).code
    : undefined;
}
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
export const PG_EXCLUSION_VIOLATION = '23P01';
