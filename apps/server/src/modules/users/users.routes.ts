import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import type { UserRow } from './users.repository.ts';
import { bareSuspension, Me, presentMe, type SuspensionView, UpdateMeBody } from './users.schema.ts';
import type { UsersService } from './users.service.ts';

const authenticated = [{ bearerAuth: [] }];

/** /api/v1/me: the caller's own account. */
export async function usersRoutes(
  app: FastifyInstance,
  deps: {
    users: UsersService;
    /** Why the account is suspended (the moderation service); the row's end alone without. */
    standing?: (user: UserRow) => Promise<SuspensionView | null>;
  },
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { users } = deps;
  const me = async (user: UserRow) =>
    presentMe(user, await (deps.standing ? deps.standing(user) : bareSuspension(user)));

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
    async (request) => me(await users.get(caller(request).userId)),
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
    async (request) => me(await users.updateProfile(caller(request).userId, request.body)),
  );
}
