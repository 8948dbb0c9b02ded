import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { decodeCursor, encodeCursor, page } from './cursor.ts';

describe('cursors', () => {
  it('round-trips a key', () => {
    const cursor = encodeCursor('feed', ['2026-01-01T00:00:00Z', 'abc']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('feed', cursor, ['string', 'string'])).toEqual(['2026-01-01T00:00:00Z', 'abc']);
  });

  it('refuses garbage, another list and another shape', () => {
    const cursor = encodeCursor('feed', ['x']);
    for (const [list, c, shape] of [
      ['feed', 'not-base64-json', ['string']],
      ['comments', cursor, ['string']],
      ['feed', cursor, ['number']],
      ['feed', cursor, ['string', 'string']],
      ['feed', Buffer.from('{"a":1}').toString('base64url'), ['string']],
    ] as const) {
      expect(() => decodeCursor(list, c, shape)).toThrow(AppError);
    }
  });

  it('pages with one extra row to know whether more follow', () => {
    expect(page([1, 2, 3], 2, String)).toEqual({ items: [1, 2], nextCursor: '2' });
    expect(page([1, 2], 2, String)).toEqual({ items: [1, 2] });
  });
});
