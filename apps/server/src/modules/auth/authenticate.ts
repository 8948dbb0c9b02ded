import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UserRole } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import type { AuthKit } from './auth-kit.ts';

const BEARER = /^Bearer ([A-Za-z0-9_.~+/-]{1,4096}=*)$/;

/**
 * Adds the app-level hook that turns `Authorization: Bearer <access token>` into `request.auth`
 * on /api routes (other routes, such as /metrics, have tokens of their own). A token that does
 * not verify, or whose session is revoked, expired or banned, answers 401 INVALID_TOKEN.
 */
export async function registerAuthentication(app: FastifyInstance, kit: AuthKit): Promise<void> {
  const unsubscribe = await kit.sessions.start();
  app.addHook('onClose', unsubscribe);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || !request.url.startsWith('/api/')) return;
    const token = BEARER.exec(header)?.[1];
    if (!token) throw new AppError('INVALID_TOKEN');
    request.auth = await kit.authenticate(token);
  });
}

/** Route hook: the route needs a signed-in user. */
export async function requireAuth(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  if (!request.auth) throw new AppError('UNAUTHENTICATED');
}

/** Route hook: the route needs one of `roles` (403 FORBIDDEN otherwise). */
export function requireRole(...roles: UserRole[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!request.auth) throw new AppError('UNAUTHENTICATED');
    if (!roles.includes(request.auth.role)) throw new AppError('FORBIDDEN');
  };
}

/** The caller, on a route guarded by requireAuth or requireRole. */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new AppError('UNAUTHENTICATED');
  return request.auth;
}
