import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import { UsernameParams } from '../friends/friends.schema.ts';
import { Profile, SearchQuery, SearchResult } from './profiles.schema.ts';
import type { ProfilesService } from './profiles.service.ts';

const security = [{ bearerAuth: [] }];
const MINUTE = 60_000;

/** Profiles and user search. */
export async function profilesRoutes(
  app: FastifyInstance,
  { profiles }: { profiles: ProfilesService },
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];

  r.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'Find users by the start of their username or display name (at most 20)',
        operationId: 'searchUsers',
        security,
        querystring: SearchQuery,
        response: responses({ 200: SearchResult }, 401),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'user-search', limit: 120, windowMs: MINUTE, by: 'user' }] },
    },
    async (request) => profiles.search(caller(request).userId, request.query.query),
  );

  r.get(
    '/users/:username',
    {
      schema: {
        tags,
        summary: "A user's profile, counts and the caller's relationship to them",
        operationId: 'getProfile',
        security,
        params: UsernameParams,
        response: responses({ 200: Profile }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => profiles.get(caller(request).userId, request.params.username),
  );
}
