/** One catalogue of every error Kith answers with: code → HTTP status and default message. */
export const ERRORS = {
  BAD_REQUEST: [400, 'The request is malformed.'],
  VALIDATION_FAILED: [400, 'The request did not match the schema.'],
  INVALID_JSON: [400, 'The body is not valid JSON.'],
  INVALID_UTF8: [400, 'The body is not valid UTF-8.'],
  JSON_TOO_DEEP: [400, 'The JSON body is nested too deeply.'],
  FORBIDDEN_KEY: [400, 'The body contains a forbidden key (__proto__ or constructor.prototype).'],
  NUL_CHARACTER: [400, 'Strings may not contain NUL characters.'],
  SELF_FRIEND_REQUEST: [400, 'You cannot send a friend request to yourself.'],
  SELF_BLOCK: [400, 'You cannot block yourself.'],
  SELF_MUTE: [400, 'You cannot mute yourself.'],
  INVALID_CURSOR: [400, 'The cursor is malformed or from another list.'],
  INVALID_PARAMETER: [400, 'A parameter is out of range or not in the expected form.'],
  INVALID_IDEMPOTENCY_KEY: [400, 'Idempotency-Key must be 1–255 printable ASCII characters.'],
  WEAK_PASSWORD: [400, 'This password is too common; choose another.'],
  INVALID_ACCOUNT_TOKEN: [400, 'The link is invalid, expired or already used.'],
  PASSKEY_REFUSED: [400, 'The passkey could not be verified for this site.'],
  NO_FILE: [400, 'The request carries no file part.'],
  CANNOT_REPORT_SELF: [400, 'You cannot report yourself or your own content.'],
  TOO_MANY_FILES: [400, 'Send exactly one file per upload.'],
  MALFORMED_MULTIPART: [400, 'The multipart body is malformed.'],
  MEDIA_NOT_ATTACHABLE: [400, 'Each media id must be one of your own ready uploads, attached nowhere else.'],
  UNKNOWN_MESSAGE_TYPE: [400, 'Unknown realtime message type.'],
  INVALID_PUSH_ENDPOINT: [400, 'The push endpoint is not an acceptable https URL.'],
  INVALID_PUSH_KEYS: [400, 'The push subscription keys are malformed.'],
  UNAUTHENTICATED: [401, 'Authentication is required.'],
  INVALID_TOKEN: [401, 'The access token is invalid or expired.'],
  INVALID_CREDENTIALS: [401, 'The login or password is incorrect.'],
  INVALID_REFRESH_TOKEN: [401, 'The refresh token is invalid, expired or revoked.'],
  INVALID_TICKET: [401, 'The realtime ticket is missing, invalid, expired or already used.'],
  INVALID_CHALLENGE: [401, 'This sign-in step has expired or was used; sign in again.'],
  FORBIDDEN: [403, 'You may not do this.'],
  CSRF_FAILED: [403, 'Missing or invalid CSRF defence header.'],
  ACCOUNT_BANNED: [403, 'This account is banned.'],
  ACCOUNT_SUSPENDED: [403, 'This account is suspended: it may read but not write until the suspension ends.'],
  WRONG_PASSWORD: [403, 'The current password is incorrect.'],
  INVALID_SECOND_FACTOR: [403, 'The code, recovery code or passkey is not right.'],
  INVALID_LINK: [403, 'The link is invalid or has expired.'],
  ORIGIN_NOT_ALLOWED: [403, 'This Origin may not open a realtime connection.'],
  NOT_FRIENDS: [403, 'You can only chat with your friends.'],
  NOT_FOUND: [404, 'Not found.'],
  ROUTE_NOT_FOUND: [404, 'No such route.'],
  PUSH_UNAVAILABLE: [404, 'Web Push is not available on this server.'],
  METHOD_NOT_ALLOWED: [405, 'Method not allowed on this route.'],
  REQUEST_TIMEOUT: [408, 'The request was not received in time.'],
  CONFLICT: [409, 'The request conflicts with the current state.'],
  CASE_ALREADY_RESOLVED: [409, 'This report case is resolved already.'],
  ALREADY_APPEALED: [409, 'This decision was appealed already; it can be appealed once.'],
  USERNAME_TAKEN: [409, 'This username is taken.'],
  EMAIL_TAKEN: [409, 'This e-mail address is already registered.'],
  EMAIL_ALREADY_VERIFIED: [409, 'This e-mail address is verified already.'],
  ALREADY_FRIENDS: [409, 'You are already friends.'],
  FRIEND_LIMIT: [409, 'One of you has reached the friend limit.'],
  ALREADY_IN_COLLECTION: [409, 'This post is already in the collection.'],
  COLLECTION_FULL: [409, 'The collection holds the most posts it may.'],
  ORDER_MISMATCH: [409, 'The new order must list exactly the posts now in the collection, each once.'],
  POSITION_OUT_OF_RANGE: [409, 'The position is past the end of the collection.'],
  GROUP_FULL: [409, 'The group has the most members it may.'],
  MUTE_LIMIT: [409, 'You have muted the most users or hashtags an account may; unmute some first.'],
  IDEMPOTENCY_IN_PROGRESS: [409, 'A request with this Idempotency-Key is still being processed.'],
  TWO_FACTOR_ENABLED: [409, 'Two-factor authentication is on already.'],
  TWO_FACTOR_NOT_ENABLED: [409, 'Two-factor authentication is not on.'],
  TOTP_SETUP_MISSING: [409, 'Start the authenticator app setup first.'],
  PASSKEY_LIMIT: [409, 'You have the most passkeys an account may have; remove one first.'],
  MEDIA_QUOTA_EXCEEDED: [409, 'Your media storage quota is full; delete some uploads first.'],
  DIRECT_UPLOAD_UNAVAILABLE: [409, 'Direct uploads need S3 storage; upload through POST /media instead.'],
  UPLOAD_INCOMPLETE: [409, 'The file was not uploaded, or its size differs from the one declared.'],
  PAYLOAD_TOO_LARGE: [413, 'The body is too large.'],
  MEDIA_TOO_LARGE: [413, 'The file is larger than the upload limit.'],
  TOO_MANY_PARTS: [413, 'The multipart body has too many parts or fields.'],
  URI_TOO_LONG: [414, 'The request path is too long.'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported Content-Type.'],
  UNSUPPORTED_IMAGE: [415, 'Only JPEG, PNG, WebP, GIF and AVIF images are accepted.'],
  IDEMPOTENCY_KEY_REUSED: [422, 'This Idempotency-Key was used with a different request.'],
  CLIENT_MESSAGE_ID_REUSED: [422, 'This clientMessageId was used for a different message.'],
  RATE_LIMITED: [429, 'Too many requests; retry later.'],
  SECOND_FACTOR_LOCKED: [429, 'Too many wrong second factors: sign-in is locked for a while.'],
  HEADERS_TOO_LARGE: [431, 'The request headers are too large.'],
  INTERNAL: [500, 'Something went wrong on our side.'],
  OVERLOADED: [503, 'The server is overloaded; retry later.'],
  UNAVAILABLE: [503, 'The service is temporarily unavailable.'],
  DATABASE_UNAVAILABLE: [503, 'The database is not answering; retry shortly.'],
  MEDIA_STORAGE_UNAVAILABLE: [503, 'Media storage is not answering; retry shortly.'],
  MEDIA_STORAGE_FULL: [507, 'Media storage is full: the file was not stored. Try again later.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Codes a client may retry unchanged after a while (`Retry-After`, or `retryAfterMs` on a realtime
 * error event): the request was refused before it did anything, or its retry is idempotent (a chat
 * send resent with the same clientMessageId is stored once).
 */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'IDEMPOTENCY_IN_PROGRESS',
  'RATE_LIMITED',
  'OVERLOADED',
  'UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'MEDIA_STORAGE_UNAVAILABLE',
]);

/** A failure the client should see, with a catalogue code. Services throw it; the error handler renders it. */
export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
    /** For a retryable code: how long the client should wait before retrying. */
    readonly retryAfterMs?: number,
  ) {
    super(message ?? ERRORS[code][1]);
    this.name = 'AppError';
    this.statusCode = ERRORS[code][0];
  }

  /** Whether the client may retry this unchanged (see RETRYABLE_CODES). */
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

/**
 * A retryable refusal: HTTP answers with `Retry-After` (whole seconds, at least 1), the realtime
 * gateway puts `retryable: true` and `retryAfterMs` in its error event.
 */
export function retryLater(code: ErrorCode, retryAfterMs: number, message?: string): AppError {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return new AppError(code, message, undefined, { 'retry-after': String(Math.ceil(ms / 1000)) }, ms);
}

export const appError = (code: ErrorCode, message?: string, details?: unknown) =>
  new AppError(code, message, details);
