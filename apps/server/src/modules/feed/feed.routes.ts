import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
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
    // The page arrives as JSON text (cached as such) and is sent as is: Fastify does not serialize a
    // string sent as application/json. It was built from presenters of the PostPage schema.
    async (request, reply) => {
      const json = await feed.page(
        caller(request).userId,
        request.query.cursor,
        request.query.limit ?? pageSize,
      );
      return reply.type('application/json; charset=utf-8').send(json as unknown as Static<typeof PostPage>);
    },
  );
}
