import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { cursorPart, decodeCursor, encodeCursor, INT4_MAX, MICROS_MAX, page } from './cursor.ts';

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

  it('decodes typed parts within their range, refusing anything out of range before SQL', () => {
    const id = '01890000-0000-7000-8000-000000000000';
    const cursor = (...key: (string | number)[]) => encodeCursor('x', key);
    const refused = (c: string, shape: Parameters<typeof decodeCursor>[2]) =>
      expect(() => decodeCursor('x', c, shape), JSON.stringify(c)).toThrow(
        expect.objectContaining({ code: 'INVALID_CURSOR' }),
      );

    // micros: a time in the sane window (epoch … 9999-12-31), exact as a string
    const [us, uuid] = decodeCursor('x', cursor('1795000000000000', id.toUpperCase()), [
      cursorPart.micros,
      cursorPart.uuid,
    ]);
    expect([us, uuid]).toEqual(['1795000000000000', id]);
    expect(decodeCursor('x', cursor(MICROS_MAX.toString()), ['micros'])).toEqual([MICROS_MAX.toString()]);
    expect(decodeCursor('x', cursor(0), [cursorPart.micros])).toEqual(['0']);
    for (const bad of [
      '99999999999999999999', // beyond int8: "bigint out of range"
      '9223372036854775807', // int8, but epoch + that many µs is beyond timestamptz: "timestamp out of range"
      (MICROS_MAX + 1n).toString(),
      '-1',
      '',
      '1e6',
      ' 1',
      1.5,
      2 ** 60,
      null,
    ]) {
      refused(cursor(bad as string), [cursorPart.micros]);
    }

    // int8: every PostgreSQL bigint, nothing beyond
    expect(decodeCursor('x', cursor('-9223372036854775808'), [cursorPart.int8])).toEqual([
      '-9223372036854775808',
    ]);
    expect(decodeCursor('x', cursor('9223372036854775807'), [cursorPart.int8])).toEqual([
      '9223372036854775807',
    ]);
    refused(cursor('9223372036854775808'), [cursorPart.int8]);
    refused(cursor('-9223372036854775809'), [cursorPart.int8]);

    // int(min, max): the column's range (an integer position: 0 … 2^31 - 1)
    const position = cursorPart.int(0, INT4_MAX);
    expect(decodeCursor('x', cursor(INT4_MAX), [position])).toEqual([INT4_MAX]);
    for (const bad of [INT4_MAX + 1, -1, 2 ** 53, 0.5, '3', Number.NaN]) refused(cursor(bad), [position]);

    // uuid and string
    for (const bad of ['', `${id}0`, 'zzzzzzzz-0000-7000-8000-000000000000', 7])
      refused(cursor(bad), ['uuid']);
    refused(cursor('a\u0000b'), ['string']);
    refused(cursor('a'.repeat(201)), ['string']);
    expect(decodeCursor('x', cursor('a'.repeat(201)), [cursorPart.string(300)])).toEqual(['a'.repeat(201)]);
  });

  it('pages with one extra row to know whether more follow', () => {
    expect(page([1, 2, 3], 2, String)).toEqual({ items: [1, 2], nextCursor: '2' });
    expect(page([1, 2], 2, String)).toEqual({ items: [1, 2] });
  });
});
