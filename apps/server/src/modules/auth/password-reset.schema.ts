import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../platform/security/passwords.ts';

/** A mailed token is 43 base64url characters; the bound leaves room for a future format. */
export const AccountToken = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });

export const PasswordResetBody = Type.Object(
  { login: Type.String({ minLength: 1, maxLength: 254, description: 'Username or e-mail address' }) },
  { additionalProperties: false },
);

export const PasswordResetConfirmBody = Type.Object(
  {
    token: AccountToken,
    newPassword: Type.String({
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
      description: '10–256 characters, not one of the 10,000 most common passwords',
    }),
  },
  { additionalProperties: false },
);

/** The answer to a request whose effect is a mail: the same whatever the account. */
export const MailQueued = Type.Object(
  {
    status: Type.Literal('queued', {
      description: 'A mail goes out if the request names an account that may have one',
    }),
  },
  { additionalProperties: false },
);
