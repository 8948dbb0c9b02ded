import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { caller, requireAuth } from './authenticate.ts';
import { VerifyEmailBody } from './email-verification.schema.ts';
import type { EmailVerificationService } from './email-verification.service.ts';
import { MailQueued, PasswordResetBody, PasswordResetConfirmBody } from './password-reset.schema.ts';
import type { PasswordResetService } from './password-reset.service.ts';

const HOUR = 60 * 60_000;
const authenticated = [{ bearerAuth: [] }];

export interface AccountRecoveryDeps {
  passwordReset: PasswordResetService;
  emailVerification: EmailVerificationService;
}

/** The account a reset request names, normalized like the lookup (username or e-mail). */
const resetKey = (request: FastifyRequest) =>
  String((request.body as { login?: unknown } | undefined)?.login ?? '')
    .trim()
    .toLowerCase();

/** Password reset and e-mail verification, under /api/v1/auth (registered by authRoutes). */
export async function accountRecoveryRoutes(app: FastifyInstance, deps: AccountRecoveryDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { passwordReset, emailVerification } = deps;

  r.post(
    '/password-reset',
    {
      schema: {
        tags: ['auth'],
        summary: 'Mail a password reset link; the same answer whether the account exists or not',
        operationId: 'requestPasswordReset',
        body: PasswordResetBody,
        response: responses({ 202: MailQueued }),
      },
      config: {
        rateLimit: [
          { name: 'password-reset-ip', limit: 20, windowMs: HOUR, by: 'ip' },
          { name: 'password-reset-account', limit: 5, windowMs: HOUR, by: resetKey },
        ],
      },
    },
    async (request, reply) => {
      await passwordReset.request(request.body.login, requestMeta(request));
      return reply.code(202).send({ status: 'queued' as const });
    },
  );

  r.post(
    '/password-reset/confirm',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with a reset token; every session is signed out',
        operationId: 'confirmPasswordReset',
        body: PasswordResetConfirmBody,
        response: responses({ 204: Type.Null() }),
      },
      config: { rateLimit: [{ name: 'password-reset-confirm-ip', limit: 30, windowMs: HOUR, by: 'ip' }] },
    },
    async (request, reply) => {
      await passwordReset.confirm(request.body.token, request.body.newPassword, requestMeta(request));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/verify-email',
    {
      schema: {
        tags: ['auth'],
        summary: 'Verify the account’s e-mail address with the token mailed to it',
        operationId: 'verifyEmail',
        body: VerifyEmailBody,
        response: responses({ 204: Type.Null() }),
      },
      config: { rateLimit: [{ name: 'verify-email-ip', limit: 30, windowMs: HOUR, by: 'ip' }] },
    },
    async (request, reply) => {
      await emailVerification.verify(request.body.token, requestMeta(request));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/verify-email/resend',
    {
      schema: {
        tags: ['auth'],
        summary: 'Mail a new verification link to the caller’s address',
        operationId: 'resendVerificationEmail',
        security: authenticated,
        response: responses({ 202: MailQueued }, 401, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'verify-email-resend', limit: 5, windowMs: HOUR, by: 'user' }] },
    },
    async (request, reply) => {
      await emailVerification.resend(caller(request).userId);
      return reply.code(202).send({ status: 'queued' as const });
    },
  );
}
