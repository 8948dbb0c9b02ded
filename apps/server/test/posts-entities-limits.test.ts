import { describe, expect, it } from 'vitest';
import { MAX_TAGS_PER_TEXT } from '../src/modules/posts/entities.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';

const t = await buildTestApp(GENEROUS_AUTH_LIMITS);
const { app } = t;
const db = t.platform.db.primary;

const call = (user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });

interface Entity {
  type: 'hashtag' | 'mention';
  tag?: string;
  username?: string;
}
const tagsOf = (entities: Entity[]) => entities.filter((e) => e.type === 'hashtag').map((e) => e.tag);
const mentionsOf = (entities: Entity[]) =>
  entities.filter((e) => e.type === 'mention').map((e) => e.username);

const indexedTags = async (postId: string) =>
  (await db.selectFrom('post_tags').select('tag').where('post_id', '=', postId).orderBy('tag').execute()).map(
    (r) => r.tag,
  );

const mentionNotifications = async (userId: string) =>
  Number(
    (
      await db
        .selectFrom('notifications')
        .select(db.fn.countAll().as('n'))
        .where('user_id', '=', userId)
        .where('kind', '=', 'mention')
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Every two-character tag of [0-9a-z] that is not digits only: 1,196 distinct tags in 4,784 characters. */
const MANY_TAGS = [...'0123456789abcdefghijklmnopqrstuvwxyz']
  .flatMap((a) => [...'0123456789abcdefghijklmnopqrstuvwxyz'].map((b) => a + b))
  .filter((tag) => !/^\d+$/.test(tag));

describe('hashtags per post are capped', () => {
  it(`indexes only the first ${MAX_TAGS_PER_TEXT} distinct tags, in order of appearance; the text stays as written`, async () => {
    const alice = await createUser(t);
    const text = MANY_TAGS.map((tag) => `#${tag}`).join(' ');
    expect(MANY_TAGS.length).toBeGreaterThan(1000);
    const res = await call(alice, 'POST', '/posts', { text, visibility: 'public' });
    expect(res.statusCode, res.body).toBe(201);
    const post = res.json();
    expect(post.text).toBe(text);
    const first = MANY_TAGS.slice(0, MAX_TAGS_PER_TEXT);
    expect(tagsOf(post.entities)).toEqual(first);
    expect(await indexedTags(post.id)).toEqual([...first].sort());

    // the tag pages agree: the last indexed tag lists the post, the first tag past the cap does not
    const listed = await call(alice, 'GET', `/tags/${first.at(-1)}/posts`);
    expect(listed.json().items.map((p: { id: string }) => p.id)).toEqual([post.id]);
    const past = await call(alice, 'GET', `/tags/${MANY_TAGS[MAX_TAGS_PER_TEXT]}/posts`);
    expect(past.statusCode).toBe(200);
    expect(past.json().items).toEqual([]);

    // an edit is capped the same way: the tags of the new text, in their new order
    const reversed = [...MANY_TAGS].reverse();
    const edited = await call(alice, 'PATCH', `/posts/${post.id}`, {
      text: reversed.map((tag) => `#${tag}`).join(' '),
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(tagsOf(edited.json().entities)).toEqual(reversed.slice(0, MAX_TAGS_PER_TEXT));
    expect(await indexedTags(post.id)).toEqual(reversed.slice(0, MAX_TAGS_PER_TEXT).sort());
  });

  it('makes a tag that NFKC expands beyond 100 characters plain text, not a 500', async () => {
    const alice = await createUser(t);
    const res = await call(alice, 'POST', '/posts', {
      text: `#${'\uFDFA'.repeat(20)} #fine`,
      visibility: 'public',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(tagsOf(res.json().entities)).toEqual(['fine']);
  });
});

describe('mentions across a block', () => {
  it('are plain text and notify nobody, whichever side blocked; other mentions still work', async () => {
    const [author, blockedMe, iBlocked, friend] = [
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
    ];
    expect((await call(blockedMe, 'PUT', `/blocks/${author.username}`)).statusCode).toBe(204);
    expect((await call(author, 'PUT', `/blocks/${iBlocked.username}`)).statusCode).toBe(204);

    const text = `hi @${blockedMe.username.toUpperCase()} @${iBlocked.username} @${friend.username}`;
    const res = await call(author, 'POST', '/posts', { text, visibility: 'public' });
    expect(res.statusCode, res.body).toBe(201);
    const post = res.json();
    expect(post.text).toBe(text);
    expect(mentionsOf(post.entities)).toEqual([friend.username]);

    // a comment by the same author: the same rule
    const comment = await call(author, 'POST', `/posts/${post.id}/comments`, {
      text: `@${blockedMe.username} @${iBlocked.username} and @${friend.username}`,
    });
    expect(comment.statusCode, comment.body).toBe(201);
    expect(mentionsOf(comment.json().entities)).toEqual([friend.username]);

    await runJobs(t);
    expect(await mentionNotifications(friend.id)).toBe(2);
    expect(await mentionNotifications(blockedMe.id)).toBe(0);
    expect(await mentionNotifications(iBlocked.id)).toBe(0);

    // an edit too
    const edited = await call(author, 'PATCH', `/posts/${post.id}`, { text: `again @${blockedMe.username}` });
    expect(edited.statusCode).toBe(200);
    expect(mentionsOf(edited.json().entities)).toEqual([]);

    // after an unblock, a new text mentions them again
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/api/v1/blocks/${iBlocked.username}`,
          headers: author.headers,
        })
      ).statusCode,
    ).toBe(204);
    const later = await call(author, 'POST', '/posts', {
      text: `@${iBlocked.username}`,
      visibility: 'public',
    });
    expect(mentionsOf(later.json().entities)).toEqual([iBlocked.username]);
  });
});
