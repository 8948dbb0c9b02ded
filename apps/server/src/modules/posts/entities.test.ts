import { describe, expect, it } from 'vitest';
import { hashtagsOf, mentionsOf, parseEntities } from './entities.ts';

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
