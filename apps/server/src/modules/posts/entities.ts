/** A hashtag or @mention found in a post's text; offsets count Unicode code points. */
export type TextEntity =
  | { type: 'hashtag'; start: number; end: number; tag: string }
  | { type: 'mention'; start: number; end: number; username: string };

// A tag or mention starts at the beginning or after a character that cannot be part of a word,
// so "a#b" and "mail@host" are not entities.
const ENTITY =
  /(?<![\p{L}\p{N}_&/@#])(?:#([\p{L}\p{M}\p{N}_]{1,100})|@([A-Za-z0-9_]{3,30}))(?![\p{L}\p{N}_@])/gu;

/**
 * The most distinct hashtags one text carries (and a post is indexed under). Beyond them, further
 * new tags stay in the text as written but are plain text — neither a link nor indexed — so a tag
 * link always leads to a page that lists the post, and one post cannot flood the tag index and
 * the trending counts (1,666 distinct tags were once indexed for one post). Repeats of a tag within
 * the cap stay links wherever they appear.
 */
export const MAX_TAGS_PER_TEXT = 30;
/** Code points in a normalized tag (the column's CHECK and the schema's maxLength). */
export const MAX_TAG_LENGTH = 100;

/**
 * Parses hashtags and mentions on the server so that clients render links from offsets, never
 * from HTML. Tags are lower-cased (NFKC) for search; a tag of digits only is not a tag; only the
 * first `maxTags` distinct tags, in order of appearance, are entities.
 */
export function parseEntities(text: string, maxTags = MAX_TAGS_PER_TEXT): TextEntity[] {
  const entities: TextEntity[] = [];
  const tags = new Set<string>();
  for (const match of text.matchAll(ENTITY)) {
    const unitStart = match.index;
    const start = [...text.slice(0, unitStart)].length;
    const end = start + [...match[0]].length;
    if (match[1] !== undefined) {
      if (/^\d+$/.test(match[1])) continue;
      const tag = match[1].normalize('NFKC').toLowerCase();
      // NFKC can expand a character to many (U+FDFA: 18): a tag must stay within 100 code points
      if ([...tag].length > MAX_TAG_LENGTH) continue;
      if (!tags.has(tag)) {
        if (tags.size >= maxTags) continue;
        tags.add(tag);
      }
      entities.push({ type: 'hashtag', start, end, tag });
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

/** The entities without the mentions of `usernames` (lower-case): those become plain text. */
export const withoutMentionsOf = (entities: TextEntity[], usernames: ReadonlySet<string>) =>
  entities.filter((e) => e.type !== 'mention' || !usernames.has(e.username));

/** The distinct mentioned usernames of a text. */
export const mentionsOf = (entities: TextEntity[]) => [
  ...new Set(entities.flatMap((e) => (e.type === 'mention' ? [e.username] : []))),
];
