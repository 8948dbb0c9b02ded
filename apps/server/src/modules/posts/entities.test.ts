import { describe, expect, it } from 'vitest';
import { hashtagsOf, MAX_TAGS_PER_TEXT, mentionsOf, parseEntities, withoutMentionsOf } from './entities.ts';

describe('parseEntities', () => {
  it('finds hashtags and mentions with code-point offsets', () => {
    const text = 'Hi @Alice_1, look #Sunset 🌅 #sunset!';
    const entities = parseEntities(text);
    expect(entities).toEqual([
      { type: 'mention', start: 3, end: 11, username: 'alice_1' },
      { type: 'hashtag', start: 18, end: 25, tag: 'sunset' },
      { type: 'hashtag', start: 28, end: 35, tag: 'sunset' },
    ]);
    const chars = [...text];
    expect(chars.slice(28, 35).join('')).toBe('#sunset');
    expect(hashtagsOf(entities)).toEqual(['sunset']);
    expect(mentionsOf(entities)).toEqual(['alice_1']);
  });

  it('ignores e-mail addresses, mid-word markers, number-only tags and too-short names', () => {
    expect(parseEntities('mail me at bob@example.com or a#b #123 @ab &#39;')).toEqual([]);
  });

  it('accepts non-Latin tags and normalizes them', () => {
    expect(parseEntities('#Café #東京')).toEqual([
      { type: 'hashtag', start: 0, end: 5, tag: 'café' },
      { type: 'hashtag', start: 6, end: 9, tag: '東京' },
    ]);
  });

  it('treats HTML as plain text', () => {
    expect(parseEntities('<script>#x</script>')).toEqual([{ type: 'hashtag', start: 8, end: 10, tag: 'x' }]);
    expect(parseEntities('<b> #bold </b>')).toEqual([{ type: 'hashtag', start: 4, end: 9, tag: 'bold' }]);
  });
});

describe('hashtag cap', () => {
  it(`keeps the first ${MAX_TAGS_PER_TEXT} distinct tags in order of appearance; later new tags are plain text`, () => {
    const tags = Array.from({ length: 1666 }, (_, i) => `t${i}`);
    // a repeat of an early tag after the cap is still that tag
    const text = `${tags.map((t) => `#${t}`).join(' ')} #t0`;
    const entities = parseEntities(text);
    expect(hashtagsOf(entities)).toEqual(tags.slice(0, MAX_TAGS_PER_TEXT));
    expect(entities).toHaveLength(MAX_TAGS_PER_TEXT + 1);
    expect(entities.at(-1)).toMatchObject({ type: 'hashtag', tag: 't0', end: [...text].length });
    expect(parseEntities('#a #b #c #a', 2).map((e) => (e.type === 'hashtag' ? e.tag : ''))).toEqual([
      'a',
      'b',
      'a',
    ]);
  });

  it('does not count mentions or number-only tags against the cap', () => {
    const text = `${'@someone '.repeat(40)}${'#1 '.repeat(40)}#real`;
    expect(hashtagsOf(parseEntities(text, 1))).toEqual(['real']);
  });

  it('drops a tag that NFKC expands beyond 100 code points (the column holds at most 100)', () => {
    const long = '\uFDFA'.repeat(10); // each expands to 18 code points
    expect(parseEntities(`#${long} #ok`)).toEqual([{ type: 'hashtag', start: 12, end: 15, tag: 'ok' }]);
    expect(hashtagsOf(parseEntities(`#${'\uFDFA'.repeat(5)}`))[0]).toHaveLength(90);
  });
});

describe('withoutMentionsOf', () => {
  it('drops the mentions of the given usernames, keeping everything else', () => {
    const entities = parseEntities('@alice @bob #tag @alice');
    expect(withoutMentionsOf(entities, new Set(['alice']))).toEqual([
      { type: 'mention', start: 7, end: 11, username: 'bob' },
      { type: 'hashtag', start: 12, end: 16, tag: 'tag' },
    ]);
  });
});
