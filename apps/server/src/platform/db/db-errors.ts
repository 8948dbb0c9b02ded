/**
 * What a failed database call says about the database, for the callers that must decide between
 * retrying, splitting a batch and giving up:
 *
 * - `unavailable`: the database could not be reached or did not answer in time — connection
 *   refused/reset/closed, connect or statement timeout (57014), shutdown (57P01–57P03), too many
 *   connections and other exhausted resources (class 53), a read-only standby after a failover
 *   (25006). Nothing about the statement is wrong; the same call later may well succeed. These are
 *   what a circuit breaker counts.
 * - `contention`: the database answered but this attempt lost a race (serialization failure,
 *   deadlock, lock not available). Retrying the whole call is right.
 * - `input`: the statement's own data or checks failed (data exception, class 22; integrity
 *   violation, class 23; a RAISE in a function, P0001–P0004). The same input fails again; in a
 *   batch, one bad row is at fault.
 * - `other`: anything else (a bug: syntax, undefined objects, …).
 */
export type DbFailureKind = 'unavailable' | 'contention' | 'input' | 'other';

/** A call given up on by the client after its deadline (the database did not answer in time). */
export class DatabaseTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} did not answer within ${timeoutMs} ms`);
    this.name = 'DatabaseTimeoutError';
  }
}

/**
 * Node's socket errors (err.code) that mean the connection failed, not the statement (shared with
 * the media store's classification, platform/storage/storage-errors.ts).
 */
export const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres and pg-pool report a lost or never-made connection with these messages (no code). */
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|timeout expired|is not queryable|Query read timeout|Cannot use a pool after calling end/i;

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The SQLSTATE of a server error (pg's DatabaseError carries `severity` with it), if there is one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/** Classifies a failure from pg, pg-pool or Kysely (see DbFailureKind). */
export function classifyDbError(err: unknown): DbFailureKind {
  if (err instanceof DatabaseTimeoutError) return 'unavailable';
  const state = sqlState(err);
  if (state !== undefined) return classifySqlState(state);
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return 'unavailable';
  if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return 'unavailable';
  return 'other';
}

/** Classifies a SQLSTATE (see DbFailureKind). */
export function classifySqlState(state: string): DbFailureKind {
  const klass = state.slice(0, 2);
  if (klass === '22' || klass === '23' || /^P000[1-4]$/.test(state)) return 'input';
  if (state === '40001' || state === '40P01' || state === '55P03') return 'contention';
  if (
    klass === '08' || // connection exception
    klass === '53' || // insufficient resources: too many connections, out of memory, disk full
    klass === '58' || // system error: I/O
    state === '57014' || // query_canceled: statement_timeout, or cancelled by an operator
    state === '57P01' || // admin_shutdown
    state === '57P02' || // crash_shutdown
    state === '57P03' || // cannot_connect_now: starting up, or in recovery
    state === '57P05' || // idle_session_timeout
    state === '25006' || // read_only_sql_transaction: a standby answered (failover in progress)
    state === '40003' // statement_completion_unknown
  ) {
    return 'unavailable';
  }
  return 'other';
}

/** Whether the same call may succeed if retried unchanged later (`unavailable` or `contention`). */
export const isRetryableDbError = (err: unknown): boolean => {
  const kind = classifyDbError(err);
  return kind === 'unavailable' || kind === 'contention';
};
