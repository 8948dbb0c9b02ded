import { type Static, Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import { PostRef, type UserSummary, Visibility } from '../posts/posts.schema.ts';
import type { CollectionRow, ItemRow } from './collections.repository.ts';

/** The most items a reorder body may list; the configured cap (COLLECTION_MAX_ITEMS) is at most this. */
export const MAX_ORDER_LENGTH = 10_000;

const UserRef = Type.Unsafe<Static<typeof UserSummary>>(Type.Ref('UserSummary'));
const Title = Type.String({ minLength: 1, maxLength: 120 });
const Description = Type.String({ maxLength: 2000 });

export const CollectionParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const ItemParams = Type.Object({ id: Uuid, postId: Uuid }, { additionalProperties: false });

export const NewCollection = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false },
);

export const CollectionChanges = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const NewItem = Type.Object(
  {
    postId: Uuid,
    position: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_ORDER_LENGTH,
        description: 'Where to insert (0 = first); the items from there on move down. Default: the end.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ItemOrder = Type.Object(
  {
    postIds: Type.Array(Uuid, {
      maxItems: MAX_ORDER_LENGTH,
      uniqueItems: true,
      description: 'Every post now in the collection, each once, in the new order',
    }),
  },
  { additionalProperties: false },
);

export const ItemsQuery = Type.Object(
  {
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
);

const collectionProperties = {
  id: Uuid,
  owner: UserRef,
  title: Type.String({ maxLength: 120 }),
  description: Type.String({ maxLength: 2000 }),
  visibility: Visibility,
  itemCount: Type.Integer({ minimum: 0, description: 'Every item, including posts the caller cannot see' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const Collection = Type.Object(collectionProperties, { additionalProperties: false });
export type CollectionView = Static<typeof Collection>;

export const CollectionItem = Type.Object(
  {
    position: Type.Integer({ minimum: 0 }),
    postId: Uuid,
    addedAt: Timestamp,
    post: Type.Union([PostRef, Type.Null()], {
      description: 'null (owner only) when the post was deleted or the owner can no longer see it',
    }),
  },
  { additionalProperties: false },
);
export type CollectionItemView = Static<typeof CollectionItem>;

export const CollectionDetail = Type.Object(
  {
    ...collectionProperties,
    items: Type.Array(CollectionItem, { maxItems: 50, description: 'A page of items in order' }),
    nextCursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const CollectionPage = Type.Object(
  { items: Type.Array(Collection, { maxItems: 50 }), nextCursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export function presentCollection(
  row: CollectionRow,
  owner: { id: string; username: string; displayName: string },
): CollectionView {
  return {
    id: row.id,
    owner,
    title: row.title,
    description: row.description,
    visibility: row.visibility,
    itemCount: row.item_count,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function presentItem(row: ItemRow, post: CollectionItemView['post']): CollectionItemView {
  return {
    position: row.position,
    postId: row.post_id,
    addedAt: row.added_at.toISOString(),
    post,
  };
}
