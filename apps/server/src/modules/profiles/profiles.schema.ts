import { type Static, Type } from 'typebox';
import { Timestamp, Uuid } from '../../platform/http/schemas.ts';
import type { UserSummary } from '../posts/posts.schema.ts';

/** Most users one search returns. */
export const SEARCH_LIMIT = 20;

const UserRef = Type.Unsafe<Static<typeof UserSummary>>(Type.Ref('UserSummary'));

export const Relationship = Type.Union(
  [
    Type.Literal('self'),
    Type.Literal('friends'),
    Type.Literal('request_sent'),
    Type.Literal('request_received'),
    Type.Literal('blocked'),
    Type.Literal('none'),
  ],
  { description: "The caller's relationship to the user" },
);

export const Profile = Type.Object(
  {
    id: Uuid,
    username: Type.String({ maxLength: 30 }),
    displayName: Type.String({ maxLength: 64 }),
    bio: Type.String({ maxLength: 500 }),
    createdAt: Timestamp,
    counts: Type.Object(
      {
        friends: Type.Integer({ minimum: 0 }),
        posts: Type.Integer({ minimum: 0, description: 'Posts the caller can see' }),
      },
      { additionalProperties: false },
    ),
    relationship: Relationship,
  },
  { additionalProperties: false },
);

export const SearchQuery = Type.Object(
  {
    query: Type.String({
      minLength: 1,
      maxLength: 30,
      pattern: '\\S',
      description: 'Prefix of a username or display name (case-insensitive; % and _ match literally)',
    }),
  },
  { additionalProperties: false },
);

export const SearchResult = Type.Object(
  { items: Type.Array(UserRef, { maxItems: SEARCH_LIMIT }) },
  { additionalProperties: false },
);
