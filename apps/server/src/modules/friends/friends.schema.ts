import { type Static, Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import type { UserSummary } from '../posts/posts.schema.ts';

export const Username = Type.String({ minLength: 1, maxLength: 30, pattern: '^[A-Za-z0-9_]+$' });
const UserRef = Type.Unsafe<Static<typeof UserSummary>>(Type.Ref('UserSummary'));

export const UsernameParams = Type.Object({ username: Username }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const SendRequestBody = Type.Object({ username: Username }, { additionalProperties: false });

export const FriendRequest = Type.Object(
  {
    id: Uuid,
    user: UserRef,
    createdAt: Timestamp,
  },
  { additionalProperties: false, $id: 'FriendRequest' },
);

export const SendRequestResult = Type.Object(
  {
    status: Type.Union([Type.Literal('pending'), Type.Literal('accepted')], {
      description: '`accepted` when the other user had already asked: you are now friends',
    }),
    request: Type.Unsafe<Static<typeof FriendRequest>>(Type.Ref('FriendRequest')),
  },
  { additionalProperties: false },
);

export const RequestsQuery = Type.Object(
  {
    direction: Type.Optional(
      Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')], { description: 'Default: incoming' }),
    ),
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
);

export const RequestPage = Type.Object(
  {
    items: Type.Array(Type.Unsafe<Static<typeof FriendRequest>>(Type.Ref('FriendRequest')), { maxItems: 50 }),
    nextCursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const Friend = Type.Object(
  {
    id: Uuid,
    username: Type.String({ maxLength: 30 }),
    displayName: Type.String({ maxLength: 64 }),
    friendsSince: Timestamp,
  },
  { additionalProperties: false },
);

export const FriendPage = Type.Object(
  { items: Type.Array(Friend, { maxItems: 50 }), nextCursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export const BlockedUser = Type.Object(
  {
    id: Uuid,
    username: Type.String({ maxLength: 30 }),
    displayName: Type.String({ maxLength: 64 }),
    blockedAt: Timestamp,
  },
  { additionalProperties: false },
);

export const BlockedPage = Type.Object(
  { items: Type.Array(BlockedUser, { maxItems: 50 }), nextCursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export const BlocksQuery = Type.Object(
  {
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
);

export const presentRequest = (r: {
  id: string;
  created_at: Date;
  user: { id: string; username: string; displayName: string };
}) => ({
  id: r.id,
  user: r.user,
  createdAt: r.created_at.toISOString(),
});
