import { Type } from 'typebox';

export const PushKey = Type.Object(
  {
    publicKey: Type.String({
      minLength: 87,
      maxLength: 87,
      description: "The server's VAPID public key (base64url): PushManager.subscribe's applicationServerKey",
    }),
  },
  { additionalProperties: false },
);

/** PushSubscription.toJSON() of the browser, as it gives it. */
export const PushSubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 9, maxLength: 1024, description: "The push service's https URL" }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'Ignored' })),
    keys: Type.Object(
      {
        p256dh: Type.String({
          pattern: '^[A-Za-z0-9_-]{86,88}={0,2}$',
          maxLength: 90,
          description: "The browser's P-256 public key, base64url (65 bytes)",
        }),
        auth: Type.String({
          pattern: '^[A-Za-z0-9_-]{22,24}={0,2}$',
          maxLength: 26,
          description: 'The 16-byte authentication secret, base64url',
        }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
