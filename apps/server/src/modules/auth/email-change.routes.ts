import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { PASSWORD_MAX_LENGTH } from '../../platform/security/passwords.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { Email } from '../users/users.schema.ts';
import { caller, requireAuth } from './authenticate.ts';
import type { EmailChangeService } from './email-change.service.ts';
import { AccountToken } from './password-reset.schema.ts';

const HOUR = 60 * 60_000;

const ChangeBody = Type.Object(
  {
    email: Email,
    password: Type.String({
      minLength: 1,
      maxLength: PASSWORD_MAX_LENGTH,
      description: 'The current password',
    }),
  },
  { additionalProperties: false },
);
const TokenBody = Type.Object({ token: AccountToken }, { additionalProperties: false });
const ChangeRequested = Type.Object(
  {
    status: Type.Literal('queued', {
      description: 'A link goes to the new address; the account keeps its address until it is followed',
    }),
  },
  { additionalProperties: false },
);
const ChangeConfirmed = Type.Object({ email: Email }, { additionalProperties: false });

/** E-mail address change, under /api/v1/auth. */
export async function emailChangeRoutes(
  app: FastifyInstance,
  { emailChange }: { emailChange: EmailChangeService },
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/email-change',
    {
      schema: {
        tags: ['auth'],
        summary: 'Ask to change my e-mail address: a confirmation link goes to the new one',
        operationId: 'requestEmailChange',
        security: [{ bearerAuth: [] }],
        body: ChangeBody,
        response: responses({ 202: ChangeRequested }, 401, 403),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'email-change', limit: 10, windowMs: HOUR, by: 'user' }] },
    },
    async (request, reply) => {
      await emailChange.request(
        caller(request).userId,
        request.body.email,
        request.body.password,
        requestMeta(request),
      );
      return reply.code(202).send({ status: 'queued' as const });
    },
  );

  r.post(
    '/email-change/confirm',
    {
      schema: {
        tags: ['auth'],
        summary: 'Confirm a new e-mail address with the link mailed to it; the old address is told',
        operationId: 'confirmEmailChange',
        body: TokenBody,
        response: responses({ 200: ChangeConfirmed }, 409),
      },
      config: { rateLimit: [{ name: 'email-change-confirm-ip', limit: 30, windowMs: HOUR, by: 'ip' }] },
    },
    async (request) => emailChange.confirm(request.body.token, requestMeta(request)),
  );

  r.post(
    '/email-change/undo',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Undo an address change from the link mailed to the old address (7 days); signs out everywhere',
        operationId: 'undoEmailChange',
        body: TokenBody,
        response: responses({ 204: Type.Null() }, 409),
      },
      config: { rateLimit: [{ name: 'email-change-undo-ip', limit: 30, windowMs: HOUR, by: 'ip' }] },
    },
    async (request, reply) => {
      await emailChange.undo(request.body.token, requestMeta(request));
      return reply.code(204).send(null);
    },
  );
}
