import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import '../http/auth-context.ts';

/**
 * One limit on a route: at most `limit` requests per `windowMs` for each key. `ip` keys by the client
 * address (request.ip, which honours TRUST_PROXY only); `user` by the signed-in user, or the address
 * when anonymous. Both are checked in onRequest, before the body is read. A function key is checked in
 * preHandler and may read the validated body (e.g. the account of a login); `undefined` skips the policy.
 *
 * @example
 * app.post('/auth/login', { config: { rateLimit: [
 *   { name: 'login-ip', limit: 100, windowMs: 15 * 60_000, by: 'ip' },
 *   { name: 'login-account', limit: 10, windowMs: 15 * 60_000, by: (req) => (req.body as Login).login.toLowerCase() },
 * ] } }, handler)
 */
export interface RoutePolicy {
  name: string;
  limit: number;
  windowMs: number;
  by: 'ip' | 'user' | ((request: FastifyRequest) => string | undefined);
}

/**
 * Writes that an account whose e-mail address is not verified may make only
 * RATE_LIMIT_UNVERIFIED_PER_HOUR times an hour (messages: ten times as many), each kind counted on
 * its own; verified accounts are not counted at all.
 */
export type UnverifiedWrite = 'posts' | 'comments' | 'friend-requests' | 'conversations' | 'messages';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Limits checked in addition to the default one; `false` turns every limit off for the route. */
    rateLimit?: RoutePolicy[] | false;
    /** The route is a write of this kind, limited further until the caller's address is verified. */
    unverifiedWrite?: UnverifiedWrite;
  }
}

/** The policy of an unverified write, or undefined when the limit is off (0). */
export function unverifiedPolicy(kind: UnverifiedWrite, perHour: number): RoutePolicy | undefined {
  if (perHour <= 0) return undefined;
  return {
    name: `unverified-${kind}`,
    limit: kind === 'messages' ? perHour * 10 : perHour,
    windowMs: 3_600_000,
    by: (request) => (request.auth && !request.auth.emailVerified ? request.auth.userId : undefined),
  };
}

/** Routes that must answer probes and scrapers whatever the load. */
export const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['/livez', '/readyz', '/metrics']);

const NAME = /^[a-z0-9][a-z0-9_.-]{0,39}$/;

/** Refuses, at start, a policy that could not be enforced or announced in the headers. */
export function assertValidPolicy(policy: RoutePolicy, route: string): void {
  const problems = [
    NAME.test(policy.name) ? '' : 'name must match [a-z0-9][a-z0-9_.-]{0,39}',
    Number.isInteger(policy.limit) && policy.limit >= 1 ? '' : 'limit must be a positive integer',
    Number.isInteger(policy.windowMs) && policy.windowMs >= 1000 ? '' : 'windowMs must be an integer ≥ 1000',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(`rate-limit policy "${policy.name}" on ${route}: ${problems.join('; ')}`);
  }
}

/** The counter key of `policy` for this request, or undefined when the policy does not apply. */
export function policyKey(policy: RoutePolicy, request: FastifyRequest): string | undefined {
  let subject: string | undefined;
  if (policy.by === 'user') subject = request.auth ? `u:${request.auth.userId}` : `ip:${request.ip}`;
  else if (policy.by === 'ip') subject = `ip:${request.ip}`;
  else {
    const value = policy.by(request);
    if (value === undefined) return undefined;
    // client-chosen values (an e-mail…) may be long or odd: key by their digest
    subject = `k:${createHash('sha256').update(value).digest('base64url')}`;
  }
  return `${policy.name}:${subject}`;
}
