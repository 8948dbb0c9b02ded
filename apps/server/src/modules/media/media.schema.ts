import { type Static, Type } from 'typebox';
import { Timestamp, Uuid } from '../../platform/http/schemas.ts';

export const ALT_MAX = 1500;
/** Most media on one post or message. */
export const MAX_ATTACHMENTS = 4;

export const MediaIds = Type.Array(Uuid, {
  maxItems: MAX_ATTACHMENTS,
  uniqueItems: true,
  description: 'Your own uploads with status `ready`, not attached anywhere yet, in display order',
});

const Variant = Type.Object(
  {
    url: Type.String({
      maxLength: 4096,
      description: 'Immutable for public media; signed and expiring (see urlsExpireAt) otherwise',
    }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

const Variants = Type.Object(
  {
    thumb: Variant,
    large: Variant,
  },
  { additionalProperties: false, description: 'WebP images: thumb fits 320 px, large 1,600 px' },
);

const Placeholder = Type.Union([Type.String({ maxLength: 100, description: 'blurhash' }), Type.Null()]);
const ExpiresAt = Type.Union([Timestamp, Type.Null()], {
  description: 'When the signed URLs stop working; null when they never do (public media)',
});

/** A medium as shown inside a post or message. */
export const MediaAttachment = Type.Object(
  {
    id: Uuid,
    alt: Type.String({ maxLength: ALT_MAX }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    animated: Type.Boolean(),
    placeholder: Placeholder,
    variants: Variants,
    urlsExpireAt: ExpiresAt,
  },
  { additionalProperties: false },
);
export type MediaAttachmentView = Static<typeof MediaAttachment>;

export const MediaStatus = Type.Union([
  Type.Literal('uploading'),
  Type.Literal('processing'),
  Type.Literal('ready'),
  Type.Literal('failed'),
]);

export const Media = Type.Object(
  {
    id: Uuid,
    status: MediaStatus,
    failureReason: Type.Union([
      Type.Literal('too_many_pixels'),
      Type.Literal('corrupt'),
      Type.Literal('unsupported'),
      Type.Null(),
    ]),
    mimeType: Type.Union([Type.String({ maxLength: 20 }), Type.Null()], {
      description: 'Of the original, as read from its bytes',
    }),
    fileName: Type.String({ maxLength: 255, description: 'Sanitized; empty for anyone but the owner' }),
    alt: Type.String({ maxLength: ALT_MAX }),
    width: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    height: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    animated: Type.Boolean(),
    placeholder: Placeholder,
    variants: Type.Union([Variants, Type.Null()]),
    urlsExpireAt: ExpiresAt,
    attached: Type.Boolean(),
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);
export type MediaView = Static<typeof Media>;

export const Accepted = Type.Object(
  { id: Uuid, status: Type.Literal('processing') },
  { additionalProperties: false },
);

export const NewDirectUpload = Type.Object(
  {
    size: Type.Integer({ minimum: 1, description: 'Exact size in bytes of the file to be PUT' }),
    fileName: Type.Optional(Type.String({ maxLength: 5000 })),
  },
  { additionalProperties: false },
);

export const DirectUpload = Type.Object(
  {
    id: Uuid,
    status: Type.Literal('uploading'),
    upload: Type.Object(
      {
        method: Type.Literal('PUT'),
        url: Type.String({ maxLength: 4096 }),
        headers: Type.Record(Type.String(), Type.String()),
        expiresAt: Timestamp,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const MediaChanges = Type.Object(
  { alt: Type.String({ maxLength: ALT_MAX }) },
  { additionalProperties: false },
);

export const MediaParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const FileParams = Type.Object(
  { id: Uuid, file: Type.Union([Type.Literal('thumb.webp'), Type.Literal('large.webp')]) },
  { additionalProperties: false },
);

export const SignedQuery = Type.Object(
  {
    expires: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 40 })),
    sig: Type.Optional(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
