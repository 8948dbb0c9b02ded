import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses, Uuid } from '../../platform/http/schemas.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import { UsernameParams } from '../friends/friends.schema.ts';
import { CommentChanges, CommentPage, CommentRef, NewComment } from './comments.schema.ts';
import type { CommentsService } from './comments.service.ts';
import { NewPost, PageQuery, PostChanges, PostPage, PostRef, ReactionKindSchema } from './posts.schema.ts';
import type { PostsService } from './posts.service.ts';

const security = [{ bearerAuth: [] }];
const MINUTE = 60_000;
const Empty = Type.Null({ description: 'No content' });
const PostParams = Type.Object({ id: Uuid }, { additionalProperties: false });
const ReactionParams = Type.Object({ id: Uuid, kind: ReactionKindSchema }, { additionalProperties: false });
const TagParams = Type.Object(
  { tag: Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\p{L}\\p{M}\\p{N}_]+$' }) },
  { additionalProperties: false },
);

export interface PostsRoutesDeps {
  posts: PostsService;
  comments: CommentsService;
}

/** Posts, their comments and reactions, user timelines and tag pages. */
export async function postsRoutes(app: FastifyInstance, { posts, comments }: PostsRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        summary: 'Publish a post (visibility defaults to friends)',
        operationId: 'createPost',
        security,
        body: NewPost,
        response: responses({ 201: PostRef }, 401, 409, 422),
      },
      onRequest: requireAuth,
      config: {
        idempotent: true,
        rateLimit: [{ name: 'posts-create', limit: 30, windowMs: MINUTE, by: 'user' }],
        unverifiedWrite: 'posts',
      },
    },
    async (request, reply) => reply.code(201).send(await posts.create(caller(request).userId, request.body)),
  );

  r.get(
    '/posts/:id',
    {
      schema: {
        tags: ['posts'],
        summary: 'A post the caller can see',
        operationId: 'getPost',
        security,
        params: PostParams,
        response: responses({ 200: PostRef }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => posts.get(caller(request).userId, request.params.id),
  );

  r.patch(
    '/posts/:id',
    {
      schema: {
        tags: ['posts'],
        summary: 'Edit the text of my post',
        operationId: 'updatePost',
        security,
        params: PostParams,
        body: PostChanges,
        response: responses({ 200: PostRef }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => posts.updateText(caller(request), request.params.id, request.body.text),
  );

  r.delete(
    '/posts/:id',
    {
      schema: {
        tags: ['posts'],
        summary: 'Delete my post (staff may remove any post; audited)',
        operationId: 'deletePost',
        security,
        params: PostParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await posts.delete(caller(request), request.params.id, requestMeta(request));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/users/:username/posts',
    {
      schema: {
        tags: ['posts'],
        summary: "A user's posts that the caller can see, newest first",
        operationId: 'listUserPosts',
        security,
        params: UsernameParams,
        querystring: PageQuery,
        response: responses({ 200: PostPage }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      posts.listByUser(
        caller(request).userId,
        request.params.username,
        request.query.cursor,
        request.query.limit ?? 20,
      ),
  );

  r.get(
    '/tags/:tag/posts',
    {
      schema: {
        tags: ['tags'],
        summary: 'Public posts with a hashtag, newest first',
        operationId: 'listTagPosts',
        security,
        params: TagParams,
        querystring: PageQuery,
        response: responses({ 200: PostPage }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      posts.listByTag(
        caller(request).userId,
        request.params.tag,
        request.query.cursor,
        request.query.limit ?? 20,
      ),
  );

  r.get(
    '/tags/trending',
    {
      schema: {
        tags: ['tags'],
        summary: 'Top hashtags of the last 24 hours (recomputed every 10 minutes)',
        operationId: 'listTrendingTags',
        security,
        response: responses(
          {
            200: Type.Object(
              {
                items: Type.Array(
                  Type.Object(
                    { tag: Type.String({ maxLength: 100 }), uses: Type.Integer({ minimum: 0 }) },
                    { additionalProperties: false },
                  ),
                  { maxItems: 50 },
                ),
                computedAt: Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()]),
              },
              { additionalProperties: false },
            ),
          },
          401,
        ),
      },
      onRequest: requireAuth,
    },
    async () => posts.trendingView(),
  );

  r.post(
    '/posts/:id/comments',
    {
      schema: {
        tags: ['comments'],
        summary: 'Comment on a post the caller can see',
        operationId: 'createComment',
        security,
        params: PostParams,
        body: NewComment,
        response: responses({ 201: CommentRef }, 401, 404, 409, 422),
      },
      onRequest: requireAuth,
      config: {
        idempotent: true,
        rateLimit: [{ name: 'comments-create', limit: 60, windowMs: MINUTE, by: 'user' }],
        unverifiedWrite: 'comments',
      },
    },
    async (request, reply) =>
      reply.code(201).send(await comments.add(caller(request).userId, request.params.id, request.body.text)),
  );

  r.get(
    '/posts/:id/comments',
    {
      schema: {
        tags: ['comments'],
        summary: 'Comments on a post, oldest first',
        operationId: 'listComments',
        security,
        params: PostParams,
        querystring: PageQuery,
        response: responses({ 200: CommentPage }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      comments.list(
        caller(request).userId,
        request.params.id,
        request.query.cursor,
        request.query.limit ?? 20,
      ),
  );

  r.patch(
    '/comments/:id',
    {
      schema: {
        tags: ['comments'],
        summary: 'Edit the text of my comment (the same text again changes nothing)',
        operationId: 'updateComment',
        security,
        params: PostParams,
        body: CommentChanges,
        response: responses({ 200: CommentRef }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'comments-edit', limit: 60, windowMs: MINUTE, by: 'user' }] },
    },
    async (request) => comments.updateText(caller(request), request.params.id, request.body.text),
  );

  r.delete(
    '/comments/:id',
    {
      schema: {
        tags: ['comments'],
        summary: "Delete a comment (its author, the post's author, or a moderator)",
        operationId: 'deleteComment',
        security,
        params: PostParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await comments.delete(caller(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  r.put(
    '/posts/:id/reactions/:kind',
    {
      schema: {
        tags: ['reactions'],
        summary: 'Set my reaction on a post (one per user; replaces another kind)',
        operationId: 'react',
        security,
        params: ReactionParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'reactions', limit: 120, windowMs: MINUTE, by: 'user' }] },
    },
    async (request, reply) => {
      await comments.react(caller(request).userId, request.params.id, request.params.kind);
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/posts/:id/reactions/:kind',
    {
      schema: {
        tags: ['reactions'],
        summary: 'Remove my reaction',
        operationId: 'unreact',
        security,
        params: ReactionParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await comments.unreact(caller(request).userId, request.params.id, request.params.kind);
      return reply.code(204).send(null);
    },
  );
}
