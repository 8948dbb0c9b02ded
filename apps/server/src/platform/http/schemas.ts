import { type TSchema, Type } from 'typebox';
import { ERRORS } from '../errors.ts';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({
          maxLength: 64,
          description: 'Stable machine-readable code from the error catalogue',
        }),
        message: Type.String({ maxLength: 1000 }),
        details: Type.Optional(Type.Unknown()),
        requestId: Type.String({ maxLength: 128 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'ErrorResponse', description: 'Every error Kith answers with' },
);

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
export const Cursor = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' });

const ref = Type.Unsafe<{ error: { code: string; message: string; details?: unknown; requestId: string } }>(
  Type.Ref('ErrorResponse'),
);

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503 | 507;

/** Route response schemas: the successes given plus the listed error statuses (always 400, 429 and 503). */
export function responses<T extends Record<number, TSchema>>(ok: T, ...errors: ErrorStatus[]) {
  const out: Record<number, TSchema> = { ...ok };
  for (const status of new Set<ErrorStatus>([400, 429, 503, ...errors])) out[status] = ref;
  return out as T & Record<ErrorStatus, typeof ref>;
}

/** Codes a client may meet, for the OpenAPI description. */
export const errorCatalogue = Object.entries(ERRORS).map(([code, [status, message]]) => ({
  code,
  status,
  message,
}));
