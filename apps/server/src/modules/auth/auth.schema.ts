import { Type } from 'typebox';
import { Timestamp, Uuid } from '../../platform/http/schemas.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../platform/security/passwords.ts';
import { DisplayName, Email, Me, Username } from '../users/users.schema.ts';

const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
/** A refresh token is 43 base64url characters; the bound leaves room for a future format. */
const RefreshToken = Type.String({ minLength: 1, maxLength: 128 });

export const SignupBody = Type.Object(
  {
    username: Username,
    email: Email,
    password: { ...Password, description: '10–256 characters, not one of the 10,000 most common passwords' },
    displayName: Type.Optional(DisplayName),
  },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: 254, description: 'Username or e-mail address' }),
    // any length up to the maximum: an old password may predate today's rules
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);

export const RefreshBody = Type.Object(
  {
    refreshToken: Type.Optional({
      ...RefreshToken,
      description: 'Omit to use the refresh cookie (then the X-Kith-CSRF: 1 header is required)',
    }),
  },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
    newPassword: Password,
  },
  { additionalProperties: false },
);

export const SessionParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const TokenPair = Type.Object(
  {
    accessToken: Type.String({ maxLength: 2048 }),
    accessTokenExpiresAt: Timestamp,
    refreshToken: Type.String({ maxLength: 128 }),
  },
  { additionalProperties: false },
);

export const AuthResult = Type.Object(
  {
    user: Me,
    accessToken: Type.String({ maxLength: 2048 }),
    accessTokenExpiresAt: Timestamp,
    refreshToken: Type.String({ maxLength: 128 }),
  },
  { additionalProperties: false },
);

export const Session = Type.Object(
  {
    id: Uuid,
    userAgent: Type.String({ maxLength: 512 }),
    ip: Type.String({ maxLength: 64 }),
    createdAt: Timestamp,
    lastUsedAt: Timestamp,
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const SessionList = Type.Object(
  { items: Type.Array(Session, { maxItems: 100 }) },
  { additionalProperties: false },
);
