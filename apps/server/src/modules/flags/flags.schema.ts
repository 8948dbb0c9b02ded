import { type Static, Type } from 'typebox';
import { Timestamp } from '../../platform/http/schemas.ts';
import type { FlagRow } from './flags.repository.ts';

const VariantName = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_-]+$' });
const Role = Type.Union([Type.Literal('user'), Type.Literal('moderator'), Type.Literal('admin')]);

export const FlagKeyParams = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9]*([._-][a-z0-9]+)*$' }),
});

export const FlagBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 500 })),
    enabled: Type.Optional(
      Type.Boolean({ description: 'The kill switch: false serves the default variant to everyone.' }),
    ),
    variants: Type.Optional(
      Type.Array(Type.Object({ name: VariantName, value: Type.Unknown() }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 16,
        description: 'The variants, each a name and its JSON value. Default: on → true, off → false.',
      }),
    ),
    defaultVariant: Type.Optional(VariantName),
    roleRules: Type.Optional(
      Type.Array(
        Type.Object(
          { roles: Type.Array(Role, { minItems: 1, maxItems: 3 }), variant: VariantName },
          { additionalProperties: false },
        ),
        {
          maxItems: 8,
          description: 'Roles that always get a variant (first match wins), before the rollout.',
        },
      ),
    ),
    rollout: Type.Optional(
      Type.Array(
        Type.Object(
          { variant: VariantName, percent: Type.Number({ minimum: 0, maximum: 100, multipleOf: 0.01 }) },
          { additionalProperties: false },
        ),
        {
          maxItems: 16,
          description:
            'Percentage rollout by a stable hash of the user id (cumulative, ≤ 100 in all); the rest get the default variant.',
        },
      ),
    ),
    clientVisible: Type.Optional(
      Type.Boolean({ description: 'Served to the web app by GET /api/v1/flags.' }),
    ),
  },
  { additionalProperties: false },
);
export type FlagBody = Static<typeof FlagBody>;

export const Flag = Type.Object({
  key: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  variants: Type.Record(Type.String(), Type.Unknown()),
  defaultVariant: Type.String(),
  roleRules: Type.Array(Type.Object({ roles: Type.Array(Type.String()), variant: Type.String() })),
  rollout: Type.Array(Type.Object({ variant: Type.String(), percent: Type.Number() })),
  clientVisible: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const FlagList = Type.Object({ items: Type.Array(Flag) });

export const ClientFlags = Type.Object({
  flags: Type.Record(
    Type.String(),
    Type.Object({ value: Type.Unknown(), variant: Type.String(), reason: Type.String() }),
    { description: 'Client-visible flags evaluated for the caller (anonymous: no rollout bucket).' },
  ),
});

export const presentFlag = (row: FlagRow) => ({
  key: row.key,
  description: row.description,
  enabled: row.enabled,
  variants: row.variants,
  defaultVariant: row.default_variant,
  roleRules: row.role_rules,
  rollout: row.rollout,
  clientVisible: row.client_visible,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});
