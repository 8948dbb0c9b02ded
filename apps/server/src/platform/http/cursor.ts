import { AppError } from '../errors.ts';

/**
 * Keyset-pagination cursors: an opaque base64url token holding the last row's sort key and the
 * list it belongs to, so a cursor from one list is refused by another.
 *
 * A cursor comes back from the client, so it is hostile input: every part is decoded by a typed
 * part decoder that checks its type *and range* (the column's, and PostgreSQL's) before it can
 * reach SQL — a forged `99999999999999999999` is a 400 INVALID_CURSOR, never a `bigint out of
 * range` from the database.
 */
export function encodeCursor(list: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url');
}

/** Checks one decoded part: its value for SQL, or undefined when it is not a valid one. */
export interface CursorPart<T> {
  readonly kind: string;
  decode(value: unknown): T | undefined;
}

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
export const INT4_MAX = 2 ** 31 - 1;
/**
 * The sane window for a time in a cursor: the epoch to the last microsecond of year 9999. Inside
 * PostgreSQL's timestamptz range (4713 BC – 294276 AD) and int8, and `epoch + n µs` cannot overflow.
 */
export const MICROS_MIN = 0n;
export const MICROS_MAX = BigInt(Date.UTC(9999, 11, 31, 23, 59, 59, 999)) * 1000n + 999n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^-?\d{1,20}$/;

/** A decimal integer (JSON string or safe-integer number) within [min, max], as its canonical string. */
function bigintPart(kind: string, min: bigint, max: bigint): CursorPart<string> {
  return {
    kind,
    decode(value) {
      let n: bigint;
      if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
      else if (typeof value === 'string' && DECIMAL.test(value)) n = BigInt(value);
      else return undefined;
      return n >= min && n <= max ? n.toString() : undefined;
    },
  };
}

/** The typed part decoders; a list's cursor shape is a tuple of them. */
export const cursorPart = {
  /** A UUID (any version), as text. */
  uuid: {
    kind: 'uuid',
    decode: (v: unknown) => (typeof v === 'string' && UUID.test(v) ? v.toLowerCase() : undefined),
  } satisfies CursorPart<string>,
  /** A time as microseconds since the epoch (decimal string: exact beyond 2^53), in the sane window. */
  micros: bigintPart('micros', MICROS_MIN, MICROS_MAX),
  /** Any PostgreSQL bigint, as a decimal string (pass it to SQL as `::bigint`). */
  int8: bigintPart('int8', INT8_MIN, INT8_MAX),
  /** A JSON integer within [min, max] — give the column's range (e.g. 0..INT4_MAX for an `integer` position). */
  int(min: number, max: number): CursorPart<number> {
    return {
      kind: `int[${min},${max}]`,
      decode: (v) =>
        typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? v : undefined,
    };
  },
  /** Text of at most maxLength characters, without NUL (which PostgreSQL text cannot hold). */
  string(maxLength = 200): CursorPart<string> {
    return {
      kind: `string[${maxLength}]`,
      decode: (v) => (typeof v === 'string' && v.length <= maxLength && !v.includes('\0') ? v : undefined),
    };
  },
} as const;

/** Names kept for callers that predate the typed decoders: each maps to one of them. */
export type CursorPartName = 'uuid' | 'micros' | 'number' | 'string';
const NAMED: Record<CursorPartName, CursorPart<string | number>> = {
  uuid: cursorPart.uuid,
  micros: cursorPart.micros,
  // a safe integer always fits int8; callers with a narrower column should use cursorPart.int(min, max)
  number: cursorPart.int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  string: cursorPart.string(),
};

type PartSpec = CursorPartName | CursorPart<unknown>;
type PartValue<P> = P extends CursorPart<infer T> ? T : P extends 'number' ? number : string;
/** The decoded key: one typed value per part of the shape. */
export type CursorKey<S extends readonly PartSpec[]> = { -readonly [K in keyof S]: PartValue<S[K]> };

/**
 * The key of a cursor of `list`, each part decoded and range-checked by its decoder; anything else
 * (garbage, another list, another shape, a part out of range) is a 400 INVALID_CURSOR.
 * Example: `const [updatedUs, id] = decodeCursor('notifications', c, [cursorPart.micros, cursorPart.uuid])`.
 */
export function decodeCursor<const S extends readonly PartSpec[]>(
  list: string,
  cursor: string,
  shape: S,
): CursorKey<S> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('INVALID_CURSOR');
  }
  if (!Array.isArray(parsed) || parsed[0] !== list || parsed.length !== shape.length + 1) {
    throw new AppError('INVALID_CURSOR');
  }
  const key = shape.map((spec, i) => {
    const part = typeof spec === 'string' ? NAMED[spec] : spec;
    const value = part.decode(parsed[i + 1]);
    if (value === undefined) throw new AppError('INVALID_CURSOR');
    return value;
  });
  return key as CursorKey<S>;
}

/** A page of items and the cursor of the next page (absent on the last page). */
export function page<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => string,
): { items: T[]; nextCursor?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextCursor: keyOf(items[items.length - 1]!) };
}
