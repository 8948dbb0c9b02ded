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

  it('checks each part so a forged cursor never reaches SQL as garbage', () => {
    const id = '01890000-0000-7000-8000-000000000000';
    expect(decodeCursor('x', encodeCursor('x', ['1795000000000000', id]), ['micros', 'uuid'])).toEqual([
      '1795000000000000',
      id,
    ]);
    for (const key of [['not-a-uuid'], ["1' OR 1=1"], [12]]) {
      expect(() => decodeCursor('x', encodeCursor('x', key), ['uuid'])).toThrow(AppError);
    }
    expect(() => decodeCursor('x', encodeCursor('x', ['12.5']), ['micros'])).toThrow(AppError);
    expect(() => decodeCursor('x', encodeCursor('x', [1.5]), ['number'])).toThrow(AppError);
  });

  it('pages with one extra row to know whether more follow', () => {
    expect(page([1, 2, 3], 2, String)).toEqual({ items: [1, 2], nextCursor: '2' });
    expect(page([1, 2], 2, String)).toEqual({ items: [1, 2] });
  });
});
