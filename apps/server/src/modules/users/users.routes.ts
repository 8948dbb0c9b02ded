import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import { Me, presentMe, UpdateMeBody } from './users.schema.ts';
import type { UsersService } from './users.service.ts';

const authenticated = [{ bearerAuth: [] }];

/** /api/v1/me: the caller's own account. */
export async function usersRoutes(app: FastifyInstance, { users }: { users: UsersService }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: "The caller's account",
        operationId: 'getMe',
        security: authenticated,
        response: responses({ 200: Me }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => presentMe(await users.get(caller(request).userId)),
  );

  r.patch(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Change display name or bio',
        operationId: 'updateMe',
        security: authenticated,
        body: UpdateMeBody,
        response: responses({ 200: Me }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => presentMe(await users.updateProfile(caller(request).userId, request.body)),
  );
}
