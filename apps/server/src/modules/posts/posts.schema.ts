import { type Static, Type } from 'typebox';
import type { ReactionKind } from '../../platform/db/schema-social.ts';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import { MAX_ATTACHMENTS, MediaAttachment, MediaIds } from '../media/media.schema.ts';
import { MAX_TAGS_PER_TEXT } from './entities.ts';
import type { PostRow } from './posts.repository.ts';

export const REACTION_KINDS = [
  'like',
  'love',
  'laugh',
  'wow',
  'sad',
] as const satisfies readonly ReactionKind[];

export const Visibility = Type.Union([
  Type.Literal('public'),
  Type.Literal('friends'),
  Type.Literal('private'),
]);
export const ReactionKindSchema = Type.Union(REACTION_KINDS.map((k) => Type.Literal(k)));

export const UserSummary = Type.Object(
  {
    id: Uuid,
    username: Type.String({ maxLength: 30 }),
    displayName: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false, $id: 'UserSummary' },
);

export const Entity = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('hashtag'),
        start: Type.Integer({ minimum: 0 }),
        end: Type.Integer({ minimum: 0 }),
        tag: Type.String({ maxLength: 100 }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('mention'),
        start: Type.Integer({ minimum: 0 }),
        end: Type.Integer({ minimum: 0 }),
        username: Type.String({ maxLength: 30 }),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'Offsets count Unicode code points; `end` is exclusive. At most ' +
      `${MAX_TAGS_PER_TEXT} distinct hashtags per text (the first, in order of appearance).`,
  },
);

export const Post = Type.Object(
  {
    id: Uuid,
    author: Type.Unsafe<Static<typeof UserSummary>>(Type.Ref('UserSummary')),
    text: Type.String({ maxLength: 5000, description: 'Plain text, never HTML' }),
    visibility: Visibility,
    entities: Type.Array(Entity, { maxItems: 5000 }),
    media: Type.Array(MediaAttachment, { maxItems: MAX_ATTACHMENTS }),
    counts: Type.Object(
      {
        comments: Type.Integer({ minimum: 0 }),
        reactions: Type.Object(
          Object.fromEntries(REACTION_KINDS.map((k) => [k, Type.Integer({ minimum: 0 })])),
          {
            additionalProperties: false,
          },
        ),
      },
      { additionalProperties: false },
    ),
    myReaction: Type.Union([ReactionKindSchema, Type.Null()]),
    createdAt: Timestamp,
    editedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { additionalProperties: false, $id: 'Post' },
);
export type PostView = Static<typeof Post>;

export const PostRef = Type.Unsafe<PostView>(Type.Ref('Post'));

export const PostPage = Type.Object(
  { items: Type.Array(PostRef, { maxItems: 50 }), nextCursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

/** How the server reads a text's hashtags and mentions, for the schema's descriptions. */
export const TEXT_ENTITIES =
  `Plain text. Hashtags and @mentions become entities: only the first ${MAX_TAGS_PER_TEXT} distinct hashtags, ` +
  'in order of appearance, are links (and, in a post, index it under their tag); further tags stay in the text as ' +
  'written, as plain text. A mention of an account that blocked you, or that you blocked, stays plain text ' +
  'and notifies nobody.';

export const NewPost = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 5000, description: TEXT_ENTITIES }),
    visibility: Type.Optional(Visibility),
    mediaIds: Type.Optional(MediaIds),
  },
  { additionalProperties: false },
);

export const PostChanges = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 5000, description: TEXT_ENTITIES }) },
  { additionalProperties: false },
);

export const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
);

export function presentPost(row: PostRow): PostView {
  return {
    id: row.id,
    author: { id: row.author_id, username: row.username, displayName: row.display_name },
    text: row.text,
    visibility: row.visibility,
    entities: row.entities as PostView['entities'],
    media: row.media,
    counts: {
      comments: row.comment_count,
      reactions: Object.fromEntries(
        REACTION_KINDS.map((k) => [k, row.reaction_counts[k] ?? 0]),
      ) as PostView['counts']['reactions'],
    },
    myReaction: (row.my_reaction as PostView['myReaction']) ?? null,
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at ? row.edited_at.toISOString() : null,
  };
}
