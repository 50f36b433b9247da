/**
 * One catalogue of failures for both protocols: each error carries the HTTP status the API answers
 * with and, when a SIP request can fail that way, the SIP status. http/error-handler.ts renders the
 * HTTP side, sip/sip-stack.ts (`replyError`) the SIP side with the reason phrase of sip/reason-phrases.ts.
 */
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
  // SIP requests
  malformedRequest: 'malformed_request',
  tooManyHops: 'too_many_hops',
  authenticationRequired: 'authentication_required',
  unknownTrunk: 'unknown_trunk',
  noDialplan: 'no_dialplan',
  dialogNotFound: 'dialog_not_found',
  requestPending: 'request_pending',
  methodNotAllowed: 'method_not_allowed',
  mediaNotAcceptable: 'media_not_acceptable',
  mediaUnavailable: 'media_unavailable',
  trunkLimit: 'trunk_limit',
  nodeAtCapacity: 'node_at_capacity',
  callerBlocked: 'caller_blocked',
  versionNotSupported: 'version_not_supported',
  badExtension: 'bad_extension',
  sessionIntervalTooSmall: 'session_interval_too_small',
  unsupportedMediaType: 'unsupported_media_type',
  tollDenied: 'toll_denied',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly httpStatus: number,
    public readonly sipStatus?: number,
    options?: { cause?: unknown; sipHeaders?: Record<string, unknown>; sipReason?: string; sipWarnCode?: number },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.sipHeaders = options?.sipHeaders;
    this.sipReason = options?.sipReason;
    this.sipWarnCode = options?.sipWarnCode;
  }

  /** Headers a SIP answer must carry (a digest challenge, Allow). */
  readonly sipHeaders: Record<string, unknown> | undefined;
  /** A reason phrase more telling than the status's standard one (carriers' logs show it). */
  readonly sipReason: string | undefined;
  /** The Warning code (RFC 3261 20.43) when one fits better than 399 (miscellaneous), e.g. 305 incompatible media format. */
  readonly sipWarnCode: number | undefined;
}

/** The bodies an INVITE may carry here (RFC 3261 21.4.16 asks a 415 to say so): SDP, or SDP among other parts. */
export const SIP_ACCEPT = 'application/sdp, multipart/mixed, multipart/alternative';

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

  // What a SIP request can be refused with (the HTTP status is for the API's own view of such a refusal).
  malformedRequest: (what: string) => new AppError(ErrorCode.malformedRequest, what, 400, 400),
  tooManyHops: () => new AppError(ErrorCode.tooManyHops, 'Max-Forwards reached 0 (a forwarding loop?)', 400, 483),
  authenticationRequired: (challenge: string) =>
    new AppError(ErrorCode.authenticationRequired, 'digest authentication required', 401, 407, { sipHeaders: { 'proxy-authenticate': challenge } }),
  unknownTrunk: (address: string) => new AppError(ErrorCode.unknownTrunk, `no trunk accepts calls from ${address}`, 403, 403),
  badCredentials: () => new AppError(ErrorCode.forbidden, 'digest credentials refused', 403, 403),
  credentialsExpired: () => new AppError(ErrorCode.forbidden, 'softphone credentials expired: fetch new ones', 403, 403),
  softphoneNeedsUser: () =>
    new AppError(ErrorCode.conflict, 'softphone credentials are issued to a signed-in user: an API key has no extension of its own', 409),
  noSoftphoneExtension: () => new AppError(ErrorCode.notFound, 'no extension is linked to your user: an admin links one (userId of POST /v1/extensions)', 404),
  softphoneOff: () => new AppError(ErrorCode.conflict, 'SIP over WebSocket is turned off on this server (SIP_WS_PORT=0)', 409),
  noDialplan: (number: string) => new AppError(ErrorCode.noDialplan, `no dialplan is bound to ${number}`, 409, 480, { sipReason: 'No Dialplan Bound' }),
  dialplanNotLoaded: (name: string) =>
    new AppError(ErrorCode.noDialplan, `dialplan ${name} is bound but not loaded`, 409, 480, { sipReason: 'Dialplan Not Loaded' }),
  dialogNotFound: () => new AppError(ErrorCode.dialogNotFound, 'no such call or transaction', 404, 481),
  requestPending: () => new AppError(ErrorCode.requestPending, 'another re-INVITE of this call is in progress', 409, 491),
  methodNotAllowed: (method: string, allow: string) =>
    new AppError(ErrorCode.methodNotAllowed, `${method} is not supported here`, 405, 405, { sipHeaders: { allow } }),
  // 488 (not 400): the offer is well formed, we cannot take its media; the carrier may retry with other codecs or route.
  mediaNotAcceptable: (why: string, warnCode: 304 | 305) => new AppError(ErrorCode.mediaNotAcceptable, why, 400, 488, { sipWarnCode: warnCode }),
  mediaUnavailable: (cause?: unknown) => new AppError(ErrorCode.mediaUnavailable, 'the media relay is unavailable', 503, 503, { cause }),
  // 503 with Retry-After: the carrier retries later or fails over to its next route (RFC 3261 21.5.4).
  trunkLimit: (what: string) => new AppError(ErrorCode.trunkLimit, `trunk limit reached: ${what}`, 429, 503, { sipHeaders: { 'retry-after': 1 } }),
  // Past SIP_MAX_CALLS: the edge tries another node on this reason; a carrier retries or fails over.
  nodeAtCapacity: (maxCalls: number) =>
    new AppError(ErrorCode.nodeAtCapacity, `this node carries its most calls (${maxCalls})`, 503, 503, {
      sipHeaders: { 'retry-after': 1 },
      sipReason: 'Node At Capacity',
    }),
  versionNotSupported: (version: string) => new AppError(ErrorCode.versionNotSupported, `SIP/${version} is not supported (SIP/2.0 is)`, 400, 505),
  badExtension: (tags: string[]) =>
    new AppError(ErrorCode.badExtension, `unsupported option tags: ${tags.join(', ')}`, 400, 420, { sipHeaders: { unsupported: tags.join(', ') } }),
  // RFC 4028 6: the caller retries with Session-Expires at least Min-SE.
  sessionIntervalTooSmall: (min: number) =>
    new AppError(ErrorCode.sessionIntervalTooSmall, `Session-Expires below ${min} s`, 400, 422, { sipHeaders: { 'min-se': min } }),
  unsupportedMediaType: (type: string) =>
    new AppError(ErrorCode.unsupportedMediaType, `a body of type ${type} (only application/sdp, alone or as a part of a multipart body)`, 415, 415, {
      sipHeaders: { accept: SIP_ACCEPT },
    }),
  callerBlocked: () => new AppError(ErrorCode.callerBlocked, 'the caller is blocked by this account', 403, 403),
  transferRefused: (why: string) => new AppError(ErrorCode.forbidden, why, 403, 403),
  // Toll fraud: a phone (or its stolen password) may only dial where its extension is allowed to.
  tollDenied: (why: string) => new AppError(ErrorCode.tollDenied, why, 403, 403, { sipReason: 'Destination Not Allowed' }),
  outboundCapReached: (perMinute: number) =>
    new AppError(ErrorCode.tollDenied, `this extension may start ${perMinute} outside calls per minute`, 429, 403, { sipReason: 'Outside Call Limit Reached' }),
  internal: (cause?: unknown) => new AppError(ErrorCode.internal, 'internal error', 500, 500, { cause }),
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
