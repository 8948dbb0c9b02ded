import { Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import { Username } from '../friends/friends.schema.ts';

const YEAR_SECONDS = 366 * 24 * 3600;

export const MuteBody = Type.Object(
  {
    durationSeconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: YEAR_SECONDS,
        description: 'How long the mute lasts; without it, until undone',
      }),
    ),
  },
  { additionalProperties: false },
);

const Until = Type.Union([Timestamp, Type.Null()], { description: 'When the mute ends; null: until undone' });

const MutedUserRef = Type.Object(
  { id: Uuid, username: Type.String({ maxLength: 30 }), displayName: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);

export const UserMute = Type.Object(
  { user: MutedUserRef, mutedAt: Timestamp, expiresAt: Until },
  { additionalProperties: false },
);

export const UserMutePage = Type.Object(
  { items: Type.Array(UserMute, { maxItems: 50 }), nextCursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export const UserMutesQuery = Type.Object(
  {
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
);

export const HashtagMute = Type.Object(
  { tag: Type.String({ maxLength: 100 }), mutedAt: Timestamp, expiresAt: Until },
  { additionalProperties: false },
);

export const HashtagMuteList = Type.Object(
  { items: Type.Array(HashtagMute, { maxItems: 1000 }) },
  { additionalProperties: false },
);

export const ConversationMute = Type.Object(
  { conversationId: Uuid, mutedAt: Timestamp, expiresAt: Until },
  { additionalProperties: false },
);

export const ConversationMuteList = Type.Object(
  { items: Type.Array(ConversationMute, { maxItems: 10_000 }) },
  { additionalProperties: false },
);

export const MuteUserParams = Type.Object({ username: Username }, { additionalProperties: false });
export const MuteTagParams = Type.Object(
  { tag: Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\p{L}\\p{M}\\p{N}_]+$' }) },
  { additionalProperties: false },
);
export const MuteConversationParams = Type.Object({ id: Uuid }, { additionalProperties: false });
