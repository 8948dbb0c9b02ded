import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import {
  ConversationParams,
  Message,
  MessageChanges,
  MessagePage,
  MessageParams,
  MessagesQuery,
  NewMessage,
  ReadMarker,
  ReadResult,
  SendResult,
} from './chat.schema.ts';
import type { ChatService } from './chat.service.ts';

const security = [{ bearerAuth: [] }];
const tags = ['chat'];
const MINUTE = 60_000;
const Empty = Type.Null({ description: 'No content' });

/** Messages and read markers over HTTP (the realtime gateway offers the same through ChatService). */
export async function chatRoutes(app: FastifyInstance, { chat }: { chat: ChatService }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const writeLimit = [{ name: 'chat-message-write', limit: 120, windowMs: MINUTE, by: 'user' as const }];

  r.get(
    '/conversations/:id/messages',
    {
      schema: {
        tags,
        summary: 'A page of messages in seq order: the newest, before a seq, or after a seq',
        operationId: 'listMessages',
        security,
        params: ConversationParams,
        querystring: MessagesQuery,
        response: responses({ 200: MessagePage }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => {
      const { before, after, limit } = request.query;
      const range = {
        before: before === undefined ? undefined : Number(before),
        after: after === undefined ? undefined : Number(after),
      };
      return chat.history(caller(request).userId, request.params.id, range, limit ?? 50);
    },
  );

  r.post(
    '/conversations/:id/messages',
    {
      schema: {
        tags,
        summary:
          'Send a message with text, media or both (201; 200 with duplicate true when this clientMessageId was sent before)',
        description:
          'While the database is not answering, or too many sends are waiting for it, the send is refused at once ' +
          'with 503 `DATABASE_UNAVAILABLE` or `OVERLOADED` and `Retry-After` (seconds). Send it again after that ' +
          'with the same clientMessageId: if the first attempt was stored after all, the retry answers 200 with ' +
          'duplicate true, so the message is stored once.',
        operationId: 'sendMessage',
        security,
        params: ConversationParams,
        body: NewMessage,
        response: responses({ 200: SendResult, 201: SendResult }, 401, 403, 404, 409, 413, 422),
      },
      onRequest: requireAuth,
      config: {
        idempotent: true,
        rateLimit: [{ name: 'chat-send', limit: 300, windowMs: MINUTE, by: 'user' }],
        unverifiedWrite: 'messages',
      },
    },
    async (request, reply) => {
      const result = await chat.send(caller(request).userId, {
        conversationId: request.params.id,
        clientMessageId: request.body.clientMessageId,
        body: request.body.body,
        mediaIds: request.body.mediaIds,
      });
      return reply.code(result.duplicate ? 200 : 201).send(result);
    },
  );

  r.patch(
    '/messages/:id',
    {
      schema: {
        tags,
        summary: 'Edit my message',
        operationId: 'editMessage',
        security,
        params: MessageParams,
        body: MessageChanges,
        response: responses({ 200: Message }, 401, 404, 413),
      },
      onRequest: requireAuth,
      config: { rateLimit: writeLimit },
    },
    async (request) => chat.edit(caller(request).userId, request.params.id, request.body.body),
  );

  r.delete(
    '/messages/:id',
    {
      schema: {
        tags,
        summary: 'Delete my message (its seq stays, shown as deleted)',
        operationId: 'deleteMessage',
        security,
        params: MessageParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: writeLimit },
    },
    async (request, reply) => {
      await chat.delete(caller(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/conversations/:id/read',
    {
      schema: {
        tags,
        summary: 'Move my read marker forward to a seq (never back, never past the last message)',
        operationId: 'markConversationRead',
        security,
        params: ConversationParams,
        body: ReadMarker,
        response: responses({ 200: ReadResult }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => chat.markRead(caller(request).userId, request.params.id, request.body.seq),
  );
}
