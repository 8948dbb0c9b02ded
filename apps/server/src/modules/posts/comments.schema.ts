import { type Static, Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import type { CommentRow } from './comments.repository.ts';
import { Entity, TEXT_ENTITIES, type UserSummary } from './posts.schema.ts';

export const Comment = Type.Object(
  {
    id: Uuid,
    postId: Uuid,
    author: Type.Unsafe<Static<typeof UserSummary>>(Type.Ref('UserSummary')),
    text: Type.String({ maxLength: 2000 }),
    entities: Type.Array(Entity, { maxItems: 2000 }),
    createdAt: Timestamp,
    editedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false, $id: 'Comment' },
);
export type CommentView = Static<typeof Comment>;

/** Use this in routes: a schema registered by $id must not be used inline (Fastify would alter it). */
export const CommentRef = Type.Unsafe<CommentView>(Type.Ref('Comment'));

export const CommentPage = Type.Object(
  {
    items: Type.Array(CommentRef, { maxItems: 50 }),
    nextCursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const NewComment = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 2000, description: TEXT_ENTITIES }) },
  { additionalProperties: false },
);

export const CommentChanges = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 2000, description: TEXT_ENTITIES }) },
  { additionalProperties: false },
);

export function presentComment(row: CommentRow): CommentView {
  return {
    id: row.id,
    postId: row.post_id,
    author: { id: row.author_id, username: row.username, displayName: row.display_name },
    text: row.text,
    entities: row.entities as CommentView['entities'],
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at ? row.edited_at.toISOString() : null,
  };
}
