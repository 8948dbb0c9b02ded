import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import {
  BlockedPage,
  BlocksQuery,
  FriendPage,
  IdParams,
  presentRequest,
  RequestPage,
  RequestsQuery,
  SendRequestBody,
  SendRequestResult,
  UsernameParams,
} from './friends.schema.ts';
import type { FriendsService } from './friends.service.ts';

const security = [{ bearerAuth: [] }];
const HOUR = 3_600_000;
const Empty = Type.Null({ description: 'No content' });

/** Friend requests, friendships and blocks. */
export async function friendsRoutes(
  app: FastifyInstance,
  { friends }: { friends: FriendsService },
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['friends'];

  r.post(
    '/friend-requests',
    {
      schema: {
        tags,
        summary: 'Ask a user to be friends (a crossing request makes you friends at once)',
        operationId: 'sendFriendRequest',
        security,
        body: SendRequestBody,
        response: responses({ 201: SendRequestResult, 200: SendRequestResult }, 401, 404, 409, 422),
      },
      onRequest: requireAuth,
      config: {
        idempotent: true,
        rateLimit: [{ name: 'friend-requests', limit: 100, windowMs: HOUR, by: 'user' }],
        unverifiedWrite: 'friend-requests',
      },
    },
    async (request, reply) => {
      const result = await friends.sendRequest(caller(request).userId, request.body.username);
      return reply.code(result.status === 'accepted' ? 200 : 201).send({
        status: result.status,
        request: presentRequest(result.request),
      });
    },
  );

  r.get(
    '/friend-requests',
    {
      schema: {
        tags,
        summary: 'Pending friend requests to or from me',
        operationId: 'listFriendRequests',
        security,
        querystring: RequestsQuery,
        response: responses({ 200: RequestPage }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => {
      const { direction, cursor, limit } = request.query;
      const page = await friends.listRequests(
        caller(request).userId,
        direction ?? 'incoming',
        cursor,
        limit ?? 20,
      );
      return {
        items: page.items.map((i) => ({ ...i, createdAt: i.createdAt.toISOString() })),
        nextCursor: page.nextCursor,
      };
    },
  );

  for (const [action, as, operationId, summary] of [
    ['accept', null, 'acceptFriendRequest', 'Accept a request to me'],
    ['decline', 'recipient', 'declineFriendRequest', 'Decline a request to me'],
  ] as const) {
    r.post(
      `/friend-requests/:id/${action}`,
      {
        schema: {
          tags,
          summary,
          operationId,
          security,
          params: IdParams,
          response: responses({ 204: Empty }, 401, 404, 409),
        },
        onRequest: requireAuth,
      },
      async (request, reply) => {
        const me = caller(request).userId;
        if (as === null) await friends.accept(me, request.params.id);
        else await friends.dismiss(me, request.params.id, as);
        return reply.code(204).send(null);
      },
    );
  }

  r.delete(
    '/friend-requests/:id',
    {
      schema: {
        tags,
        summary: 'Cancel a request I sent',
        operationId: 'cancelFriendRequest',
        security,
        params: IdParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await friends.dismiss(caller(request).userId, request.params.id, 'sender');
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/users/:username/friends',
    {
      schema: {
        tags,
        summary: "A user's friends",
        operationId: 'listFriends',
        security,
        params: UsernameParams,
        querystring: Type.Object(
          {
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: FriendPage }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => {
      const page = await friends.listFriends(
        caller(request).userId,
        request.params.username,
        request.query.cursor,
        request.query.limit ?? 20,
      );
      return {
        items: page.items.map((f) => ({ ...f, friendsSince: f.friendsSince.toISOString() })),
        nextCursor: page.nextCursor,
      };
    },
  );

  r.delete(
    '/friends/:username',
    {
      schema: {
        tags,
        summary: 'End a friendship',
        operationId: 'unfriend',
        security,
        params: UsernameParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await friends.unfriend(caller(request).userId, request.params.username);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/blocks',
    {
      schema: {
        tags,
        summary: 'The people I blocked, most recent first',
        operationId: 'listBlocks',
        security,
        querystring: BlocksQuery,
        response: responses({ 200: BlockedPage }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      friends.listBlocked(caller(request).userId, request.query.cursor, request.query.limit ?? 20),
  );

  r.put(
    '/blocks/:username',
    {
      schema: {
        tags,
        summary: 'Block a user: ends the friendship and hides each of you from the other',
        operationId: 'blockUser',
        security,
        params: UsernameParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await friends.block(caller(request).userId, request.params.username);
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/blocks/:username',
    {
      schema: {
        tags,
        summary: 'Unblock a user',
        operationId: 'unblockUser',
        security,
        params: UsernameParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await friends.unblock(caller(request).userId, request.params.username);
      return reply.code(204).send(null);
    },
  );
}
