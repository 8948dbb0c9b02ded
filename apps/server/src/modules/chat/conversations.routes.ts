import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import {
  ConversationDetail,
  ConversationPage,
  ConversationParams,
  ListQuery,
  Member,
  MemberParams,
  NewConversation,
  NewMember,
} from './chat.schema.ts';
import type { ConversationsService } from './conversations.service.ts';

const security = [{ bearerAuth: [] }];
const tags = ['chat'];
const MINUTE = 60_000;
const Empty = Type.Null({ description: 'No content' });

/** Conversations: direct and group, with group membership. */
export async function conversationsRoutes(
  app: FastifyInstance,
  { conversations }: { conversations: ConversationsService },
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const membersLimit = [{ name: 'chat-members', limit: 120, windowMs: MINUTE, by: 'user' as const }];

  r.post(
    '/conversations',
    {
      schema: {
        tags,
        summary: 'Open the direct conversation with one user (the existing one: 200), or create a group',
        operationId: 'createConversation',
        security,
        body: NewConversation,
        response: responses({ 200: ConversationDetail, 201: ConversationDetail }, 401, 403, 404, 409, 422),
      },
      onRequest: requireAuth,
      config: {
        idempotent: true,
        rateLimit: [{ name: 'chat-conversations-create', limit: 60, windowMs: MINUTE, by: 'user' }],
        unverifiedWrite: 'conversations',
      },
    },
    async (request, reply) => {
      const { conversation, created } = await conversations.create(caller(request).userId, request.body);
      return reply.code(created ? 201 : 200).send(conversation);
    },
  );

  r.get(
    '/conversations',
    {
      schema: {
        tags,
        summary: 'My conversations, latest activity first, with unread counts and last messages',
        operationId: 'listConversations',
        security,
        querystring: ListQuery,
        response: responses({ 200: ConversationPage }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      conversations.list(caller(request).userId, request.query.cursor, request.query.limit ?? 20),
  );

  r.get(
    '/conversations/:id',
    {
      schema: {
        tags,
        summary: 'A conversation I am a member of, with its members',
        operationId: 'getConversation',
        security,
        params: ConversationParams,
        response: responses({ 200: ConversationDetail }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => conversations.get(caller(request).userId, request.params.id),
  );

  r.post(
    '/conversations/:id/members',
    {
      schema: {
        tags,
        summary: 'Add a member to a group I administer (201; 200 when already a member)',
        operationId: 'addConversationMember',
        security,
        params: ConversationParams,
        body: NewMember,
        response: responses({ 200: Member, 201: Member }, 401, 403, 404, 409, 422),
      },
      onRequest: requireAuth,
      config: { idempotent: true, rateLimit: membersLimit },
    },
    async (request, reply) => {
      const { member, added } = await conversations.addMember(
        caller(request).userId,
        request.params.id,
        request.body.username,
      );
      return reply.code(added ? 201 : 200).send(member);
    },
  );

  r.delete(
    '/conversations/:id/members/:username',
    {
      schema: {
        tags,
        summary: 'Remove a member of a group I administer, or leave (my own username)',
        operationId: 'removeConversationMember',
        security,
        params: MemberParams,
        response: responses({ 204: Empty }, 401, 403, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: membersLimit },
    },
    async (request, reply) => {
      await conversations.removeMember(caller(request).userId, request.params.id, request.params.username);
      return reply.code(204).send(null);
    },
  );
}
