/** A hashtag or @mention found in a post's text; offsets count Unicode code points. */
export type TextEntity =
  | { type: 'hashtag'; start: number; end: number; tag: string }
  | { type: 'mention'; start: number; end: number; username: string };

// A tag or mention starts at the beginning or after a character that cannot be part of a word,
// so "a#b" and "mail@host" are not entities.
const ENTITY =
  /(?<![\p{L}\p{N}_&/@#])(?:#([\p{L}\p{M}\p{N}_]{1,100})|@([A-Za-z0-9_]{3,30}))(?![\p{L}\p{N}_@])/gu;

/**
 * Parses hashtags and mentions on the server so that clients render links from offsets, never
 * from HTML. Tags are lower-cased (NFKC) for search; a tag of digits only is not a tag.
 */
export function parseEntities(text: string): TextEntity[] {
  const entities: TextEntity[] = [];
  for (const match of text.matchAll(ENTITY)) {
    const unitStart = match.index;
    const start = [...text.slice(0, unitStart)].length;
    const end = start + [...match[0]].length;
    if (match[1] !== undefined) {
      if (/^\d+$/.test(match[1])) continue;
      entities.push({ type: 'hashtag', start, end, tag: match[1].normalize('NFKC').toLowerCase() });
    } else if (match[2] !== undefined) {
      entities.push({ type: 'mention', start, end, username: match[2].toLowerCase() });
    }
  }
  return entities;
}

/** The distinct tags of a text, in order of first appearance. */
export const hashtagsOf = (entities: TextEntity[]) => [
  ...new Set(entities.flatMap((e) => (e.type === 'hashtag' ? [e.tag] : []))),
];

/** The distinct mentioned usernames of a text. */
export const mentionsOf = (entities: TextEntity[]) => [
  ...new Set(entities.flatMap((e) => (e.type === 'mention' ? [e.username] : []))),
];
