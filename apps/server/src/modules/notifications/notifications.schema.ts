import { type Static, Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import type { UserSummary } from '../posts/posts.schema.ts';
import type { NotificationRow } from './notifications.repository.ts';

export const Notification = Type.Object(
  {
    id: Uuid,
    kind: Type.Union([
      Type.Literal('friend_request'),
      Type.Literal('friend_accepted'),
      Type.Literal('comment'),
      Type.Literal('reaction'),
      Type.Literal('mention'),
      Type.Literal('report_resolved'),
      Type.Literal('moderation_notice'),
    ]),
    actors: Type.Array(Type.Unsafe<Static<typeof UserSummary>>(Type.Ref('UserSummary')), {
      maxItems: 3,
      description: 'The most recent actors (up to 3)',
    }),
    actorCount: Type.Integer({
      minimum: 1,
      description: 'All distinct actors: "A and 3 others" is actorCount 4',
    }),
    subjectId: Type.Union([Uuid, Type.Null()], {
      description:
        'The post, comment or friend request concerned; for report_resolved and moderation_notice, the report case',
    }),
    data: Type.Record(Type.String({ maxLength: 32 }), Type.String({ maxLength: 200 })),
    read: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, $id: 'Notification' },
);
export type NotificationView = Static<typeof Notification>;

export const NotificationPage = Type.Object(
  {
    items: Type.Array(Type.Unsafe<NotificationView>(Type.Ref('Notification')), { maxItems: 50 }),
    nextCursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const UnreadCount = Type.Object(
  { count: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const MarkRead = Type.Object(
  { upTo: Type.Union([Uuid], { description: 'Id of the newest notification the user has seen' }) },
  { additionalProperties: false },
);

export function presentNotification(row: NotificationRow): NotificationView {
  return {
    id: row.id,
    kind: row.kind,
    actors: row.actors,
    actorCount: row.actor_count,
    subjectId: row.subject_id,
    data: row.data as Record<string, string>,
    read: row.read_at !== null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
