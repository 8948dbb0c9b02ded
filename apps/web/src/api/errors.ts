import type { ErrorResponse } from '@kith/contract';

/**
 * Every failed API call surfaces as one of these: the server's `{ code, message, requestId }`, the
 * HTTP status and, on 429/503, when to try again. Network failures get the code `NETWORK`.
 */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string;
  readonly details: unknown;
  /** From `Retry-After` (seconds or an HTTP date), in milliseconds from when the answer came. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    code: string;
    message: string;
    status: number;
    requestId?: string;
    details?: unknown;
    retryAfterMs?: number | undefined;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId ?? '';
    this.details = init.details;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export const NETWORK_ERROR = 'NETWORK';
export const UNEXPECTED_ERROR = 'UNEXPECTED';

/** Reads `Retry-After` as delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function isErrorResponse(body: unknown): body is ErrorResponse {
  const error = (body as ErrorResponse | undefined)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/** Turns an error body (or anything else a failed response carried) into an ApiError. */
export function toApiError(body: unknown, response: Response, fallbackMessage: string): ApiError {
  const retry = retryAfterMs(response.headers.get('Retry-After'));
  if (isErrorResponse(body)) {
    return new ApiError({ ...body.error, status: response.status, retryAfterMs: retry });
  }
  return new ApiError({
    code: UNEXPECTED_ERROR,
    message: fallbackMessage,
    status: response.status,
    requestId: response.headers.get('X-Request-Id') ?? '',
    retryAfterMs: retry,
  });
}
