import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import {
  ConversationMute,
  ConversationMuteList,
  HashtagMute,
  HashtagMuteList,
  MuteBody,
  MuteConversationParams,
  MuteTagParams,
  MuteUserParams,
  UserMute,
  UserMutePage,
  UserMutesQuery,
} from './mutes.schema.ts';
import type { MutesService } from './mutes.service.ts';

const security = [{ bearerAuth: [] }];
const Empty = Type.Null({ description: 'No content' });
const HOUR = 3_600_000;
/** Muting is cheap and private, but each change drops the feed cache: bounded per user. */
const rateLimit = [{ name: 'mutes', limit: 300, windowMs: HOUR, by: 'user' as const }];

/** Mutes of users, hashtags and conversations: private to the muter. */
export async function mutesRoutes(app: FastifyInstance, { mutes }: { mutes: MutesService }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['mutes'];

  r.get(
    '/mutes/users',
    {
      schema: {
        tags,
        summary: 'The users I muted, most recent first',
        operationId: 'listUserMutes',
        security,
        querystring: UserMutesQuery,
        response: responses({ 200: UserMutePage }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      mutes.listUsers(caller(request).userId, request.query.cursor, request.query.limit ?? 20),
  );

  r.put(
    '/mutes/users/:username',
    {
      schema: {
        tags,
        summary:
          'Mute a user: their posts and notifications leave my views; they are not told and still see me',
        operationId: 'muteUser',
        security,
        params: MuteUserParams,
        body: MuteBody,
        response: responses({ 200: UserMute }, 401, 404, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request) =>
      mutes.muteUser(caller(request).userId, request.params.username, request.body.durationSeconds),
  );

  r.delete(
    '/mutes/users/:username',
    {
      schema: {
        tags,
        summary: 'Unmute a user',
        operationId: 'unmuteUser',
        security,
        params: MuteUserParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request, reply) => {
      await mutes.unmuteUser(caller(request).userId, request.params.username);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/mutes/hashtags',
    {
      schema: {
        tags,
        summary: 'The hashtags I muted',
        operationId: 'listHashtagMutes',
        security,
        response: responses({ 200: HashtagMuteList }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => mutes.listHashtags(caller(request).userId),
  );

  r.put(
    '/mutes/hashtags/:tag',
    {
      schema: {
        tags,
        summary: 'Mute a hashtag: posts carrying it leave my home feed',
        operationId: 'muteHashtag',
        security,
        params: MuteTagParams,
        body: MuteBody,
        response: responses({ 200: HashtagMute }, 401, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request) =>
      mutes.muteHashtag(caller(request).userId, request.params.tag, request.body.durationSeconds),
  );

  r.delete(
    '/mutes/hashtags/:tag',
    {
      schema: {
        tags,
        summary: 'Unmute a hashtag',
        operationId: 'unmuteHashtag',
        security,
        params: MuteTagParams,
        response: responses({ 204: Empty }, 401),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request, reply) => {
      await mutes.unmuteHashtag(caller(request).userId, request.params.tag);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/mutes/conversations',
    {
      schema: {
        tags,
        summary: 'The conversations I muted',
        operationId: 'listConversationMutes',
        security,
        response: responses({ 200: ConversationMuteList }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => mutes.listConversations(caller(request).userId),
  );

  r.put(
    '/mutes/conversations/:id',
    {
      schema: {
        tags,
        summary: 'Mute a conversation I am in: its messages stop counting as unread',
        operationId: 'muteConversation',
        security,
        params: MuteConversationParams,
        body: MuteBody,
        response: responses({ 200: ConversationMute }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request) =>
      mutes.muteConversation(caller(request).userId, request.params.id, request.body.durationSeconds),
  );

  r.delete(
    '/mutes/conversations/:id',
    {
      schema: {
        tags,
        summary: 'Unmute a conversation',
        operationId: 'unmuteConversation',
        security,
        params: MuteConversationParams,
        response: responses({ 204: Empty }, 401),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request, reply) => {
      await mutes.unmuteConversation(caller(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
