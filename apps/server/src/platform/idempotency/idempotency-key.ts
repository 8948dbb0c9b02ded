import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import stringify from 'safe-stable-stringify';
import '../http/auth-context.ts';

/** 1–255 printable ASCII characters (space included; Node trims it at both ends). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$';
const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/** The key, undefined when absent, or 'invalid'. */
export function readIdempotencyKey(request: FastifyRequest): string | undefined | 'invalid' {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  return typeof value === 'string' && KEY.test(value) ? value : 'invalid';
}

/** Keys belong to the caller: the user when signed in, the client address otherwise. */
export function idempotencyScope(request: FastifyRequest): string {
  return request.auth ? `u:${request.auth.userId}` : `ip:${request.ip}`;
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
