import type { Random } from './random.ts';

export const FIRST_NAMES = [
  'ada',
  'alan',
  'amara',
  'anna',
  'arjun',
  'beatriz',
  'ben',
  'carla',
  'chen',
  'dara',
  'david',
  'elena',
  'emeka',
  'eva',
  'farah',
  'felix',
  'grace',
  'hana',
  'hugo',
  'ines',
  'ivan',
  'jamal',
  'jin',
  'julia',
  'kai',
  'kenji',
  'lara',
  'leo',
  'lina',
  'luca',
  'maya',
  'mei',
  'mateo',
  'nadia',
  'nico',
  'noor',
  'olga',
  'omar',
  'paula',
  'priya',
  'quinn',
  'rafael',
  'rosa',
  'sami',
  'sara',
  'sven',
  'tara',
  'tomas',
  'uma',
  'victor',
  'wen',
  'yara',
  'yusuf',
  'zoe',
] as const;

export const LAST_NAMES = [
  'abbott',
  'adeyemi',
  'alvarez',
  'berg',
  'bianchi',
  'costa',
  'dubois',
  'eriksen',
  'fischer',
  'garcia',
  'haddad',
  'ito',
  'jansen',
  'kim',
  'kowalski',
  'larsen',
  'lopez',
  'martin',
  'mendes',
  'nakamura',
  'novak',
  'okafor',
  'oliveira',
  'park',
  'petrov',
  'quispe',
  'rossi',
  'santos',
  'schmidt',
  'silva',
  'tanaka',
  'usman',
  'varga',
  'wang',
  'weber',
  'xu',
  'yilmaz',
  'zhang',
] as const;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
export const displayName = (first: string, last: string) => `${capitalize(first)} ${capitalize(last)}`;

const TOPICS = [
  'coffee',
  'running',
  'cycling',
  'photography',
  'cooking',
  'baking',
  'hiking',
  'travel',
  'books',
  'music',
  'jazz',
  'gardening',
  'chess',
  'football',
  'climbing',
  'yoga',
  'movies',
  'gaming',
  'design',
  'typescript',
  'postgres',
  'rust',
  'opensource',
  'startups',
  'science',
  'space',
  'art',
  'sketching',
  'knitting',
  'cats',
  'dogs',
  'weekend',
  'mondays',
  'sunset',
  'rain',
  'summer',
  'winter',
  'food',
  'vegan',
  'pizza',
  'ramen',
  'tea',
  'podcasts',
  'birding',
  'surfing',
  'skiing',
  'theatre',
  'poetry',
] as const;

const OPENERS = [
  'Just got back from',
  'Finally tried',
  'Anyone else into',
  'Spent the whole afternoon on',
  'Hot take about',
  'Small win today with',
  'Can we talk about',
  'Still thinking about',
  'First time trying',
  'Week three of',
  'Not sure how I feel about',
  'Sharing a few notes on',
] as const;

const MIDDLES = [
  'and it was better than expected.',
  'and I have questions.',
  'which took far longer than planned.',
  'with a couple of friends.',
  'and the weather did not cooperate.',
  'so here is what I learned.',
  'on a budget, which was a challenge.',
  'and now I want to do it every day.',
  'even though I was sceptical at first.',
  'and honestly it made my week.',
] as const;

const CLOSERS = [
  'Recommendations welcome!',
  'Would do it again.',
  'More photos soon.',
  'Thoughts?',
  'Ten out of ten.',
  'Next time I will plan ahead.',
  'Who is in for next weekend?',
  '',
  '',
] as const;

const COMMENTS = [
  'Love this!',
  'So jealous right now.',
  'Where was this?',
  'Count me in next time.',
  'Ha, same here.',
  'This is great, thanks for sharing.',
  'Looks amazing.',
  'I had the exact same experience.',
  'Tell me more!',
  'Not convinced, but happy for you.',
  'Saving this for later.',
  'Congrats!',
] as const;

/**
 * A short post in the voice of a social feed: a sentence or two, often one to three hashtags,
 * sometimes a mention of one of `friends` (usernames).
 */
export function postText(rng: Random, friends: readonly string[]): string {
  const topic = rng.pick(TOPICS);
  const parts: string[] = [rng.pick(OPENERS), topic, rng.pick(MIDDLES)];
  if (friends.length > 0 && rng.chance(0.15)) parts.push(`Thanks @${rng.pick(friends)} for the tip.`);
  const closer = rng.pick(CLOSERS);
  if (closer) parts.push(closer);
  const tags = rng.chance(0.7) ? 1 + rng.int(3) : 0;
  const used = new Set<string>();
  for (let i = 0; i < tags; i++) {
    const tag = i === 0 ? topic : rng.pick(TOPICS);
    if (used.has(tag)) continue;
    used.add(tag);
    parts.push(`#${rng.chance(0.2) ? capitalize(tag) : tag}`);
  }
  return parts.join(' ');
}

/** A comment, now and then mentioning the post's author. */
export function commentText(rng: Random, author: string): string {
  const text = rng.pick(COMMENTS);
  return rng.chance(0.1) ? `@${author} ${text}` : text;
}
