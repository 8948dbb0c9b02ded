import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { hashToken } from '../../platform/security/tokens.ts';
import { requestMeta } from '../audit/request-meta.ts';
import type { UserRow } from '../users/users.repository.ts';
import { AuthResult } from './auth.schema.ts';
import type { AuthService } from './auth.service.ts';
import { caller, requireAuth } from './authenticate.ts';
import type { PasskeysService, PasskeyView } from './passkeys.service.ts';
import type { IssuedTokens } from './sessions.service.ts';
import {
  ChallengeBody,
  DisableTwoFactorBody,
  Passkey,
  PasskeyList,
  PasskeyLoginBody,
  PasskeyLoginOptions,
  PasskeyParams,
  PasskeyRegisterBody,
  PasskeyRegistrationOptions,
  PasskeyRenameBody,
  ReauthBody,
  RecoveryCodes,
  RegenerateCodesBody,
  RequestOptions,
  SecondFactorBody,
  TotpConfirmBody,
  TotpSetup,
  TwoFactorStatus,
} from './two-factor.schema.ts';
import type { TwoFactorService } from './two-factor.service.ts';

const FIFTEEN_MINUTES = 15 * 60_000;
const HOUR = 60 * 60_000;
const authenticated = [{ bearerAuth: [] }];

export interface TwoFactorRoutesDeps {
  auth: AuthService;
  twoFactor: TwoFactorService;
  passkeys: PasskeysService;
}

interface Registered extends TwoFactorRoutesDeps {
  /** Sets the refresh cookie and gives the sign-in answer (auth.routes.ts owns the cookie). */
  signedIn(reply: FastifyReply, result: IssuedTokens & { user: UserRow }): Promise<Static<typeof AuthResult>>;
}

/** One login's second-factor step: the key its attempts are counted under. */
const challengeKey = (request: FastifyRequest) => {
  const token = (request.body as { challengeToken?: unknown } | undefined)?.challengeToken;
  return typeof token === 'string' ? hashToken(token).toString('base64url') : undefined;
};

const presentPasskey = (p: PasskeyView) => ({
  ...p,
  createdAt: p.createdAt.toISOString(),
  lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
});

/** 2FA (TOTP, recovery codes), passkeys and the second step of a login, under /api/v1/auth. */
export async function twoFactorRoutes(app: FastifyInstance, deps: Registered): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, twoFactor, passkeys } = deps;

  r.post(
    '/login/second-factor',
    {
      schema: {
        tags: ['auth'],
        summary: 'Finish a sign-in with the second factor: a TOTP code, a recovery code or a passkey',
        operationId: 'loginSecondFactor',
        body: SecondFactorBody,
        response: responses({ 200: AuthResult }, 401, 403),
      },
      config: {
        rateLimit: [
          { name: 'second-factor-ip', limit: 60, windowMs: FIFTEEN_MINUTES, by: 'ip' },
          { name: 'second-factor-challenge', limit: 10, windowMs: FIFTEEN_MINUTES, by: challengeKey },
        ],
      },
    },
    async (request, reply) => {
      const { challengeToken, ...proof } = request.body;
      const meta = requestMeta(request);
      const { userId, method } = await twoFactor.completeLogin(challengeToken, proof, meta);
      return deps.signedIn(reply, await auth.startSession(userId, meta, method));
    },
  );

  r.post(
    '/login/second-factor/passkey-options',
    {
      schema: {
        tags: ['auth'],
        summary: 'WebAuthn options for answering the second-factor step with a passkey',
        operationId: 'loginSecondFactorPasskeyOptions',
        body: ChallengeBody,
        response: responses({ 200: RequestOptions }, 401, 404),
      },
      config: {
        rateLimit: [{ name: 'second-factor-ip', limit: 60, windowMs: FIFTEEN_MINUTES, by: 'ip' }],
      },
    },
    async (request) => twoFactor.passkeyOptions(request.body.challengeToken),
  );

  r.post(
    '/passkeys/login/options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Start a password-less sign-in with a passkey',
        operationId: 'passkeyLoginOptions',
        response: responses({ 200: PasskeyLoginOptions }),
      },
      config: { rateLimit: [{ name: 'passkey-login-ip', limit: 100, windowMs: FIFTEEN_MINUTES, by: 'ip' }] },
    },
    async () => passkeys.loginOptions(),
  );

  r.post(
    '/passkeys/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a passkey (no password, no second factor: the passkey is both)',
        operationId: 'passkeyLogin',
        body: PasskeyLoginBody,
        response: responses({ 200: AuthResult }, 401, 403),
      },
      config: { rateLimit: [{ name: 'passkey-login-ip', limit: 100, windowMs: FIFTEEN_MINUTES, by: 'ip' }] },
    },
    async (request, reply) => {
      const userId = await passkeys.login(request.body.challengeId, request.body.response);
      return deps.signedIn(reply, await auth.passkeySignIn(userId, requestMeta(request)));
    },
  );

  r.get(
    '/2fa',
    {
      schema: {
        tags: ['auth'],
        summary: "The caller's two-factor settings",
        operationId: 'getTwoFactor',
        security: authenticated,
        response: responses({ 200: TwoFactorStatus }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => {
      const s = await twoFactor.status(caller(request).userId);
      return {
        ...s,
        totpEnabledAt: s.totpEnabledAt?.toISOString() ?? null,
        lockedUntil: s.lockedUntil?.toISOString() ?? null,
      };
    },
  );

  r.post(
    '/2fa/totp',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Start setting up an authenticator app (needs the password): a new secret, in force once confirmed',
        operationId: 'setupTotp',
        security: authenticated,
        body: ReauthBody,
        response: responses({ 200: TotpSetup }, 401, 403, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'two-factor-setup', limit: 20, windowMs: HOUR, by: 'user' }] },
    },
    async (request) => twoFactor.setupTotp(caller(request), request.body.password),
  );

  r.post(
    '/2fa/totp/confirm',
    {
      schema: {
        tags: ['auth'],
        summary: 'Turn 2FA on with a current code; answers the ten recovery codes, once',
        operationId: 'confirmTotp',
        security: authenticated,
        body: TotpConfirmBody,
        response: responses({ 200: RecoveryCodes }, 401, 403, 409),
      },
      onRequest: requireAuth,
      config: {
        rateLimit: [{ name: 'two-factor-confirm', limit: 20, windowMs: FIFTEEN_MINUTES, by: 'user' }],
      },
    },
    async (request) => ({
      recoveryCodes: await twoFactor.confirmTotp(caller(request), request.body.code, requestMeta(request)),
    }),
  );

  r.post(
    '/2fa/disable',
    {
      schema: {
        tags: ['auth'],
        summary: 'Turn 2FA off: needs the password and a current code or a recovery code',
        operationId: 'disableTwoFactor',
        security: authenticated,
        body: DisableTwoFactorBody,
        response: responses({ 204: Type.Null() }, 401, 403, 409),
      },
      onRequest: requireAuth,
      config: {
        rateLimit: [{ name: 'two-factor-disable', limit: 10, windowMs: FIFTEEN_MINUTES, by: 'user' }],
      },
    },
    async (request, reply) => {
      const { password, ...proof } = request.body;
      await twoFactor.disable(caller(request), password, proof, requestMeta(request));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/2fa/recovery-codes',
    {
      schema: {
        tags: ['auth'],
        summary: 'Replace the recovery codes (needs a current code or a recovery code)',
        operationId: 'regenerateRecoveryCodes',
        security: authenticated,
        body: RegenerateCodesBody,
        response: responses({ 200: RecoveryCodes }, 401, 403, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'two-factor-codes', limit: 10, windowMs: FIFTEEN_MINUTES, by: 'user' }] },
    },
    async (request) => ({
      recoveryCodes: await twoFactor.regenerateRecoveryCodes(
        caller(request),
        request.body,
        requestMeta(request),
      ),
    }),
  );

  r.get(
    '/passkeys',
    {
      schema: {
        tags: ['auth'],
        summary: "The caller's passkeys",
        operationId: 'listPasskeys',
        security: authenticated,
        response: responses({ 200: PasskeyList }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => ({ items: (await passkeys.list(caller(request))).map(presentPasskey) }),
  );

  r.post(
    '/passkeys/registration-options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Start adding a passkey (needs the password): options for navigator.credentials.create()',
        operationId: 'passkeyRegistrationOptions',
        security: authenticated,
        body: ReauthBody,
        response: responses({ 200: PasskeyRegistrationOptions }, 401, 403, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'passkey-register', limit: 30, windowMs: HOUR, by: 'user' }] },
    },
    async (request) => passkeys.registrationOptions(caller(request), request.body.password),
  );

  r.post(
    '/passkeys',
    {
      schema: {
        tags: ['auth'],
        summary: 'Finish adding a passkey with what the authenticator answered',
        operationId: 'registerPasskey',
        security: authenticated,
        body: PasskeyRegisterBody,
        response: responses({ 201: Passkey }, 401, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'passkey-register', limit: 30, windowMs: HOUR, by: 'user' }] },
    },
    async (request, reply) => {
      const { challengeId, name, response } = request.body;
      const passkey = await passkeys.register(
        caller(request),
        challengeId,
        name,
        response,
        requestMeta(request),
      );
      return reply.code(201).send(presentPasskey(passkey));
    },
  );

  r.patch(
    '/passkeys/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Rename one of the caller’s passkeys',
        operationId: 'renamePasskey',
        security: authenticated,
        params: PasskeyParams,
        body: PasskeyRenameBody,
        response: responses({ 200: Passkey }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      presentPasskey(
        await passkeys.rename(caller(request), request.params.id, request.body.name, requestMeta(request)),
      ),
  );

  r.delete(
    '/passkeys/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Remove one of the caller’s passkeys',
        operationId: 'removePasskey',
        security: authenticated,
        params: PasskeyParams,
        response: responses({ 204: Type.Null() }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await passkeys.remove(caller(request), request.params.id, requestMeta(request));
      return reply.code(204).send(null);
    },
  );
}
