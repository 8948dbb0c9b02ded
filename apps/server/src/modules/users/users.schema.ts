import { type Static, Type } from 'typebox';
import { Timestamp, Uuid } from '../../platform/http/schemas.ts';
import type { UserRow } from './users.repository.ts';

export const Role = Type.Union([Type.Literal('user'), Type.Literal('moderator'), Type.Literal('admin')]);
export const Username = Type.String({
  minLength: 3,
  maxLength: 30,
  pattern: '^[A-Za-z0-9_]{3,30}$',
  description: '3–30 of a–z, 0–9, _ (stored lowercase; unique case-insensitively)',
});
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const DisplayName = Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' });
export const Bio = Type.String({ maxLength: 500 });

/** Why the account is suspended, as its owner sees it (GET /moderation/notices/{caseId} has the rest). */
export const Suspension = Type.Object(
  {
    until: Timestamp,
    caseId: Type.Union([Uuid, Type.Null()], { description: 'The decision (null when none is on record)' }),
    reason: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()], {
      description: 'The moderator’s note, told to the user',
    }),
    appeal: Type.Union(
      [Type.Literal('available'), Type.Literal('pending'), Type.Literal('decided'), Type.Null()],
      { description: 'available: the user may still appeal (once); pending: appealed, not yet decided' },
    ),
  },
  { additionalProperties: false },
);
export type SuspensionView = Static<typeof Suspension>;

/** The signed-in user's own account. */
export const Me = Type.Object(
  {
    id: Uuid,
    username: Type.String({ maxLength: 30 }),
    email: Type.String({ maxLength: 254 }),
    displayName: Type.String({ maxLength: 64 }),
    bio: Type.String({ maxLength: 500 }),
    role: Role,
    createdAt: Timestamp,
    emailVerified: Type.Boolean({
      description:
        'The address is verified; until it is, posts, comments, friend requests and chats are limited (docs/mail.md)',
    }),
    suspension: Type.Union([Suspension, Type.Null()], {
      description:
        'Set while a moderator’s suspension is in force: the account may read but every write answers 403 ACCOUNT_SUSPENDED',
    }),
  },
  { additionalProperties: false },
);
export type MeView = Static<typeof Me>;

/** An account as staff see it. */
export const AdminUser = Type.Object(
  {
    id: Uuid,
    username: Type.String({ maxLength: 30 }),
    displayName: Type.String({ maxLength: 64 }),
    role: Role,
    bannedAt: Type.Union([Timestamp, Type.Null()]),
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

export const UpdateMeBody = Type.Object(
  { displayName: Type.Optional(DisplayName), bio: Type.Optional(Bio) },
  { additionalProperties: false },
);

/** Only the suspension's end, from the account row (no decision looked up). */
export const bareSuspension = (user: Pick<UserRow, 'suspended_until'>): SuspensionView | null =>
  user.suspended_until && user.suspended_until.getTime() > Date.now()
    ? { until: user.suspended_until.toISOString(), caseId: null, reason: null, appeal: null }
    : null;

/** My account; `suspension` as `ModerationService.standing` tells it (the bare row's when not given). */
export function presentMe(user: UserRow, suspension: SuspensionView | null = bareSuspension(user)): MeView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    displayName: user.display_name,
    bio: user.bio,
    role: user.role,
    createdAt: user.created_at.toISOString(),
    emailVerified: user.email_verified_at !== null,
    suspension,
  };
}

export function presentAdminUser(user: UserRow): Static<typeof AdminUser> {
  return {
    id: user.id,
    username: user.username,
    displayName: user.display_name,
    role: user.role,
    bannedAt: user.banned_at?.toISOString() ?? null,
    createdAt: user.created_at.toISOString(),
  };
}
