import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import { PageQuery, PostPage } from '../posts/posts.schema.ts';
import type { FeedService } from './feed.service.ts';

/** GET /api/v1/feed: the caller's home feed. */
export async function feedRoutes(
  app: FastifyInstance,
  { feed, pageSize }: { feed: FeedService; pageSize: number },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/feed',
    {
      schema: {
        tags: ['feed'],
        summary: "Home feed: my and my friends' posts I can see, newest first",
        operationId: 'getFeed',
        security: [{ bearerAuth: [] }],
        querystring: PageQuery,
        response: responses({ 200: PostPage }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      feed.page(caller(request).userId, request.query.cursor, request.query.limit ?? pageSize),
  );
}
