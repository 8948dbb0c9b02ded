import { SOCKET_CODES } from '../db/db-errors.ts';
import { AppError, retryLater } from '../errors.ts';

/**
 * What a failed storage call says about the store (never about the database):
 *
 * - `full`: the store said it has no room — no space (ENOSPC), a quota (EDQUOT), S3's 507
 *   (MinIO's `XMinioStorageFull`, `InsufficientStorage`). RFC 4918's 507: the server cannot store
 *   what the request needs. Only with that evidence: nothing else is reported as full. Nothing is
 *   kept (see the adapters).
 * - `unavailable`: the store could not be reached or did not answer — connection refused or reset,
 *   timeouts, S3's 503 `SlowDown`/`ServiceUnavailable`, any other server error after the SDK's
 *   retries (S3's transient `InternalError`; s3rver on a full disk answers that too, with no way to
 *   tell). Retrying later may work, so 503 + Retry-After.
 * - `other`: anything else (access denied, a missing bucket: a configuration error, not the
 *   client's): left as is, a 500.
 */
export type StorageFailureKind = 'full' | 'unavailable' | 'other';

export type StorageOperation = 'put' | 'read' | 'head' | 'delete' | 'presign';

/**
 * A failure of the media store itself (not of the bytes a client sent). Carries no `code` of its
 * own, so that nothing mistakes a storage socket error for a database one.
 */
export class StorageError extends Error {
  constructor(
    readonly kind: Exclude<StorageFailureKind, 'other'>,
    readonly operation: StorageOperation,
    cause: unknown,
  ) {
    super(`media storage ${operation} failed (${kind}): ${describe(cause)}`, { cause });
    this.name = 'StorageError';
  }
}

/** Node's errno codes that mean the store's disk (or the spool) has no room. */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
/** Node's errno and socket codes that mean the store could not be reached or did not answer. */
const UNAVAILABLE_CODES = new Set([
  ...SOCKET_CODES,
  // a disk store's own: the device failed, is read-only, out of descriptors, or went away
  'EIO',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'ESTALE',
]);
/** S3 error names (codes) for a store with no room left. */
const S3_FULL = new Set(['XMinioStorageFull', 'InsufficientStorage', 'StorageFull']);
/** S3 error names of a store that is overloaded, down or did not answer in time. */
const S3_UNAVAILABLE = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'XMinioServerNotInitialized',
]);

/** Classifies a failure of a storage call (see StorageFailureKind). */
export function classifyStorageError(err: unknown): StorageFailureKind {
  if (err instanceof StorageError) return err.kind;
  const e = (err ?? {}) as {
    code?: unknown;
    name?: unknown;
    $metadata?: { httpStatusCode?: number };
    $fault?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const name = typeof e.name === 'string' ? e.name : undefined;
  if (code && FULL_CODES.has(code)) return 'full';
  if (code && UNAVAILABLE_CODES.has(code)) return 'unavailable';
  if (name && S3_FULL.has(name)) return 'full';
  if (name && S3_UNAVAILABLE.has(name)) return 'unavailable';
  const status = e.$metadata?.httpStatusCode;
  if (status === 507) return 'full';
  if (status === 503 || status === 502 || status === 504) return 'unavailable';
  if (status !== undefined && status >= 500) return 'unavailable';
  // the SDK's own network failures (no HTTP answer at all): socket hang up, aborted, timed out
  if (status === undefined && e.$fault === 'client' && /socket|timeout|timed out|abort/i.test(describe(err)))
    return 'unavailable';
  if (/socket hang up|ECONNREFUSED|ECONNRESET/i.test(describe(err))) return 'unavailable';
  return 'other';
}

/** The store's failure as a StorageError, or the error itself when the store is not at fault. */
export function storageFailure(err: unknown, operation: StorageOperation): unknown {
  if (err instanceof StorageError || err instanceof AppError) return err;
  const kind = classifyStorageError(err);
  return kind === 'other' ? err : new StorageError(kind, operation, err);
}

/** How long a client should wait before retrying against a store that did not answer. */
export const STORAGE_RETRY_AFTER_MS = 5_000;

/** The client's answer: 507 MEDIA_STORAGE_FULL, or 503 MEDIA_STORAGE_UNAVAILABLE with Retry-After. */
export function storageAppError(err: StorageError): AppError {
  return err.kind === 'full'
    ? new AppError('MEDIA_STORAGE_FULL')
    : retryLater('MEDIA_STORAGE_UNAVAILABLE', STORAGE_RETRY_AFTER_MS);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message}`.slice(0, 300);
  }
  return String(err).slice(0, 300);
}
