import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import { PageQuery } from '../posts/posts.schema.ts';
import { MarkRead, NotificationPage, UnreadCount } from './notifications.schema.ts';
import type { NotificationsService } from './notifications.service.ts';

const security = [{ bearerAuth: [] }];
const tags = ['notifications'];

/** The caller's notifications. */
export async function notificationsRoutes(
  app: FastifyInstance,
  { notifications }: { notifications: NotificationsService },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/notifications',
    {
      schema: {
        tags,
        summary: 'My notifications, most recent activity first',
        operationId: 'listNotifications',
        security,
        querystring: PageQuery,
        response: responses({ 200: NotificationPage }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      notifications.list(caller(request).userId, request.query.cursor, request.query.limit ?? 20),
  );

  r.get(
    '/notifications/unread-count',
    {
      schema: {
        tags,
        summary: 'How many notifications are unread',
        operationId: 'getUnreadNotificationCount',
        security,
        response: responses({ 200: UnreadCount }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => ({ count: await notifications.unreadCount(caller(request).userId) }),
  );

  r.post(
    '/notifications/read',
    {
      schema: {
        tags,
        summary: 'Mark read every notification up to one I have seen',
        operationId: 'markNotificationsRead',
        security,
        body: MarkRead,
        response: responses(
          {
            200: Type.Object(
              { marked: Type.Integer({ minimum: 0 }), unreadCount: Type.Integer({ minimum: 0 }) },
              { additionalProperties: false },
            ),
          },
          401,
          404,
        ),
      },
      onRequest: requireAuth,
    },
    async (request) => notifications.markRead(caller(request).userId, request.body.upTo),
  );
}
