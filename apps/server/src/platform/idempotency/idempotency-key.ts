import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import stringify from 'safe-stable-stringify';
import '../http/auth-context.ts';

/** 1–255 printable ASCII characters (space included; Node trims it at both ends). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$';
const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/**
 * Anonymous keys are shared by every client of a route (see idempotencyScope), so a key must be
 * unguessable: at least this many characters — a random UUID (36) or ULID (26) is the intended use.
 */
export const ANONYMOUS_KEY_MIN_LENGTH = 16;

export const ANONYMOUS_KEY_TOO_SHORT =
  `Without signing in, Idempotency-Key must be at least ${ANONYMOUS_KEY_MIN_LENGTH} characters ` +
  '(use a random UUID).';

/** The key, undefined when absent, or 'invalid'. */
export function readIdempotencyKey(request: FastifyRequest): string | undefined | 'invalid' {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY.test(value)) return 'invalid';
  if (!request.auth && value.length < ANONYMOUS_KEY_MIN_LENGTH) return 'invalid';
  return value;
}

/** Why readIdempotencyKey answered 'invalid', for the 400's message (undefined: the catalogue's). */
export function invalidKeyMessage(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  return typeof value === 'string' && KEY.test(value) ? ANONYMOUS_KEY_TOO_SHORT : undefined;
}

/**
 * Whose keys these are. A signed-in caller's keys are theirs. An anonymous caller has no stable
 * identity — the address changes when a phone moves from Wi-Fi to mobile data, which is exactly
 * when it retries — so anonymous keys are scoped to method and route. Sharing that namespace is
 * safe because (1) a replay needs the request fingerprint to match (another body is a 422, so a
 * replay only ever goes to someone who sent the very same request, password included), (2) the
 * stored response is sealed with a key derived from the raw Idempotency-Key, which the database
 * never holds, and (3) anonymous keys must be long enough (ANONYMOUS_KEY_MIN_LENGTH) that nobody
 * can guess another client's key to read its answer or squat it with another body.
 */
export function idempotencyScope(request: FastifyRequest): string {
  if (request.auth) return `u:${request.auth.userId}`;
  return `anon:${request.method} ${request.routeOptions.url ?? request.url}`;
}

/**
 * What "the same request" means: method, path with query (so one key cannot be replayed on another
 * resource) and the body in canonical form (key order and whitespace do not matter).
 */
export function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method}\n${request.url}\n${stringify(request.body ?? null)}`)
    .digest('hex');
}
