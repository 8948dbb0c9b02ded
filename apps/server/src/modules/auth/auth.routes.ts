import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../config.ts';
import { AppError } from '../../platform/errors.ts';
import { responses } from '../../platform/http/schemas.ts';
import { requestMeta } from '../audit/request-meta.ts';
import type { UserRow } from '../users/users.repository.ts';
import { bareSuspension, presentMe, type SuspensionView } from '../users/users.schema.ts';
import {
  AuthResult,
  ChangePasswordBody,
  LoginBody,
  RefreshBody,
  SessionList,
  SessionParams,
  SignupBody,
  TokenPair,
} from './auth.schema.ts';
import type { AuthService } from './auth.service.ts';
import { caller, requireAuth } from './authenticate.ts';
import { type AccountRecoveryDeps, accountRecoveryRoutes } from './password-reset.routes.ts';
import type { IssuedTokens, SessionsService } from './sessions.service.ts';
import { type TwoFactorRoutesDeps, twoFactorRoutes } from './two-factor.routes.ts';
import { SecondFactorRequired } from './two-factor.schema.ts';

export const REFRESH_COOKIE = 'kith_refresh';
/**
 * Set and cleared with the refresh cookie, readable by the page (path /, not HttpOnly) and holding
 * no secret: a visitor without it has no session to refresh, so the web app sends no refresh that
 * would fail with 401.
 */
export const SESSION_HINT_COOKIE = 'kith_session_hint';
const COOKIE_PATH = '/api/v1/auth';
const CSRF_HEADER = 'x-kith-csrf';
const FIFTEEN_MINUTES = 15 * 60_000;
const authenticated = [{ bearerAuth: [] }];

export interface AuthRoutesDeps {
  auth: AuthService;
  sessions: SessionsService;
  cookieSecure: boolean;
  refreshTtlDays: number;
  limits: Config['rateLimit'];
  /** Password reset and e-mail verification (password-reset.routes.ts). */
  recovery?: AccountRecoveryDeps;
  /** 2FA, passkeys and the second step of a login (two-factor.routes.ts). */
  twoFactor?: Omit<TwoFactorRoutesDeps, 'auth'>;
  /** Why a signed-in account is suspended, for its `user` (the moderation service); the row's alone without. */
  standing?: (user: UserRow) => Promise<SuspensionView | null>;
}

const presentTokens = (t: IssuedTokens) => ({
  accessToken: t.accessToken,
  accessTokenExpiresAt: t.accessTokenExpiresAt.toISOString(),
  refreshToken: t.refreshToken,
});

/** The login rate-limit key: the account the attempt is aimed at, normalized like the lookup. */
const loginKey = (request: FastifyRequest) =>
  String((request.body as { login?: unknown } | undefined)?.login ?? '')
    .trim()
    .toLowerCase();

/** /api/v1/auth: signup, login, refresh, logout, sessions and password change. */
export async function authRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  await app.register(cookie);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, sessions, limits } = deps;
  const standing = deps.standing ?? (async (user: UserRow) => bareSuspension(user));
  const signedIn = async (result: IssuedTokens & { user: UserRow }) => ({
    user: presentMe(result.user, await standing(result.user)),
    ...presentTokens(result),
  });
  if (deps.recovery) await app.register(accountRecoveryRoutes, deps.recovery);
  if (deps.twoFactor)
    await app.register(twoFactorRoutes, {
      ...deps.twoFactor,
      auth,
      signedIn: (reply: FastifyReply, result: IssuedTokens & { user: UserRow }) => {
        setRefreshCookie(reply, result.refreshToken);
        return signedIn(result);
      },
    });

  const setRefreshCookie = (reply: FastifyReply, token: string) => {
    const maxAge = deps.refreshTtlDays * 86_400;
    reply.setCookie(REFRESH_COOKIE, token, {
      httpOnly: true,
      secure: deps.cookieSecure,
      sameSite: 'strict',
      path: COOKIE_PATH,
      maxAge,
    });
    reply.setCookie(SESSION_HINT_COOKIE, '1', {
      secure: deps.cookieSecure,
      sameSite: 'strict',
      path: '/',
      maxAge,
    });
  };
  const clearRefreshCookie = (reply: FastifyReply) => {
    reply.clearCookie(REFRESH_COOKIE, {
      path: COOKIE_PATH,
      httpOnly: true,
      secure: deps.cookieSecure,
      sameSite: 'strict',
    });
    reply.clearCookie(SESSION_HINT_COOKIE, { path: '/', secure: deps.cookieSecure, sameSite: 'strict' });
  };

  r.post(
    '/signup',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account and sign in',
        operationId: 'signup',
        body: SignupBody,
        response: responses({ 201: AuthResult }, 409, 422),
      },
      config: {
        idempotent: true,
        rateLimit: [{ name: 'signup-ip', limit: limits.signupIp, windowMs: 60 * 60_000, by: 'ip' }],
      },
    },
    async (request, reply) => {
      const result = await auth.signup(request.body, requestMeta(request));
      setRefreshCookie(reply, result.refreshToken);
      return reply.code(201).send({ user: presentMe(result.user), ...presentTokens(result) });
    },
  );

  r.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a username or e-mail address and a password',
        operationId: 'login',
        body: LoginBody,
        response: responses({ 200: AuthResult, 202: SecondFactorRequired }, 401, 403),
      },
      config: {
        rateLimit: [
          { name: 'login-ip', limit: limits.loginIp, windowMs: FIFTEEN_MINUTES, by: 'ip' },
          { name: 'login-account', limit: limits.loginAccount, windowMs: FIFTEEN_MINUTES, by: loginKey },
        ],
      },
    },
    async (request, reply) => {
      const result = await auth.login(request.body.login, request.body.password, requestMeta(request));
      if ('secondFactor' in result) {
        const { challengeToken, expiresAt, methods } = result.secondFactor;
        return reply.code(202).send({
          status: 'second_factor_required' as const,
          challengeToken,
          expiresAt: expiresAt.toISOString(),
          methods,
        });
      }
      setRefreshCookie(reply, result.refreshToken);
      return signedIn(result);
    },
  );

  r.post(
    '/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token (body, or cookie with X-Kith-CSRF: 1) for a new pair',
        operationId: 'refresh',
        body: RefreshBody,
        response: responses({ 200: TokenPair }, 401, 403),
      },
      // a cookie client may send no body at all
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      let token = request.body.refreshToken;
      if (token === undefined) {
        token = request.cookies[REFRESH_COOKIE];
        if (token === undefined) {
          clearRefreshCookie(reply); // a hint left without its cookie
          throw new AppError('INVALID_REFRESH_TOKEN');
        }
        // a cross-site form cannot set a custom header; SameSite=Strict is the second line
        if (request.headers[CSRF_HEADER] !== '1') throw new AppError('CSRF_FAILED');
      }
      try {
        const pair = await auth.refresh(token, requestMeta(request));
        setRefreshCookie(reply, pair.refreshToken);
        return presentTokens(pair);
      } catch (error) {
        // a dead refresh cookie is dropped (with its hint): the next visit does not try it again
        if (error instanceof AppError && error.code === 'INVALID_REFRESH_TOKEN') clearRefreshCookie(reply);
        throw error;
      }
    },
  );

  r.post(
    '/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out of the current session',
        operationId: 'logout',
        security: authenticated,
        response: responses({ 204: Type.Null() }, 401),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await sessions.logout(caller(request), requestMeta(request));
      clearRefreshCookie(reply);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/logout-all',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out of every session',
        operationId: 'logoutAll',
        security: authenticated,
        response: responses({ 204: Type.Null() }, 401),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await sessions.logoutAll(caller(request), requestMeta(request));
      clearRefreshCookie(reply);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/sessions',
    {
      schema: {
        tags: ['auth'],
        summary: "List the caller's active sessions",
        operationId: 'listSessions',
        security: authenticated,
        response: responses({ 200: SessionList }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => {
      const list = await sessions.list(caller(request));
      return {
        items: list.map((s) => ({
          ...s,
          createdAt: s.createdAt.toISOString(),
          lastUsedAt: s.lastUsedAt.toISOString(),
        })),
      };
    },
  );

  r.delete(
    '/sessions/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of the caller’s sessions',
        operationId: 'revokeSession',
        security: authenticated,
        params: SessionParams,
        response: responses({ 204: Type.Null() }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await sessions.revoke(caller(request), request.params.id, requestMeta(request));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/password',
    {
      schema: {
        tags: ['auth'],
        summary: 'Change the password; every other session is revoked',
        operationId: 'changePassword',
        security: authenticated,
        body: ChangePasswordBody,
        response: responses({ 204: Type.Null() }, 401, 403),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      const { currentPassword, newPassword } = request.body;
      await auth.changePassword(caller(request), currentPassword, newPassword, requestMeta(request));
      return reply.code(204).send(null);
    },
  );
}
