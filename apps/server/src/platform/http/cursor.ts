import { AppError } from '../errors.ts';

/**
 * Keyset-pagination cursors: an opaque base64url token holding the last row's sort key and the
 * list it belongs to, so a cursor from one list is refused by another.
 */
export function encodeCursor(list: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url');
}

/** The kinds of key a cursor may carry; each is checked so a forged cursor never reaches SQL as garbage. */
export type CursorPart = 'uuid' | 'micros' | 'number' | 'string';

const PART: Record<CursorPart, (v: unknown) => boolean> = {
  uuid: (v) =>
    typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  micros: (v) => typeof v === 'string' && /^\d{1,20}$/.test(v),
  number: (v) => typeof v === 'number' && Number.isSafeInteger(v),
  string: (v) => typeof v === 'string' && v.length <= 200,
};

export function decodeCursor(
  list: string,
  cursor: string,
  shape: readonly CursorPart[],
): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('INVALID_CURSOR');
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== list ||
    parsed.length !== shape.length + 1 ||
    !shape.every((part, i) => PART[part](parsed[i + 1]))
  ) {
    throw new AppError('INVALID_CURSOR');
  }
  return parsed.slice(1);
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
