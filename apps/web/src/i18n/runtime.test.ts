import { describe, expect, it } from 'vitest';
import { createTranslator } from './runtime.ts';

const catalogue = {
  a: { title: 'Hello {{name}}', nested: { deep: 'Deep' } },
  count_zero: 'None',
  count_one: '{{count}} item',
  count_other: '{{count}} items',
  few_one: 'one',
  few_few: 'few',
  few_many: 'many',
  few_other: 'other',
};

describe('createTranslator', () => {
  const { t } = createTranslator(catalogue, 'en');
  const tr = t as (key: string, values?: Record<string, string | number>) => string;

  it('finds nested keys and fills placeholders', () => {
    expect(tr('a.title', { name: 'Ada' })).toBe('Hello Ada');
    expect(tr('a.nested.deep')).toBe('Deep');
    expect(tr('a.title')).toBe('Hello {{name}}');
  });

  it('chooses the plural form by the locale rules, with _zero for nothing', () => {
    expect(tr('count', { count: 0 })).toBe('None');
    expect(tr('count', { count: 1 })).toBe('1 item');
    expect(tr('count', { count: 7 })).toBe('7 items');
    const pl = createTranslator(catalogue, 'pl').t as typeof tr;
    expect([1, 3, 5].map((count) => pl('few', { count }))).toEqual(['one', 'few', 'many']);
  });

  it('shows the key for a missing message and never parses values as placeholders', () => {
    expect(tr('a.missing')).toBe('a.missing');
    expect(tr('a.nested')).toBe('a.nested');
    expect(tr('a.title', { name: '{{name}} <b>' })).toBe('Hello {{name}} <b>');
  });
});
