import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost, get } from './helpers/social.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const { app } = t;

const feedTexts = async (user: TestUser, query = '') =>
  (await get(t, user, `/api/v1/feed${query}`)).json().items.map((p: { text: string }) => p.text);

describe('home feed', () => {
  it("shows my and my friends' visible posts, newest first, via fan-out on write", async () => {
    const [me, friend, stranger] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, me, friend);
    await runJobs(t);
    await createPost(t, me, 'mine', 'private');
    await createPost(t, friend, 'friend public', 'public');
    await createPost(t, friend, 'friend private', 'private');
    await createPost(t, stranger, 'stranger public', 'public');
    // my own post is there at once; friends' arrive with the fan-out job
    expect(await feedTexts(me)).toEqual(['mine']);
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['friend public', 'mine']);
    expect(await feedTexts(friend)).toEqual(['friend private', 'friend public']);
    const page = (await get(t, me, '/api/v1/feed')).json();
    expect(page.items[0]).toMatchObject({
      author: { username: friend.username },
      counts: { comments: 0 },
      myReaction: null,
    });
  });

  it('serves the cached first page until an entry arrives, then the new one', async () => {
    const [me, friend] = [await createUser(t), await createUser(t)];
    await befriend(t, me, friend);
    await runJobs(t);
    await createPost(t, friend, 'one', 'friends');
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['one']);
    // a write behind the service's back is not seen while the page is cached…
    await sql`UPDATE posts SET text = 'changed' WHERE author_id = ${friend.id}`.execute(
      t.platform.db.primary,
    );
    expect(await feedTexts(me)).toEqual(['one']);
    // …and a new entry invalidates it
    await createPost(t, friend, 'two', 'friends');
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['two', 'changed']);
    // my reaction changes my page at once
    const post = (await get(t, me, '/api/v1/feed')).json().items[0];
    await app.inject({ method: 'PUT', url: `/api/v1/posts/${post.id}/reactions/like`, headers: me.headers });
    expect((await get(t, me, '/api/v1/feed')).json().items[0].myReaction).toBe('like');
  });

  it('pages with cursors without gaps or duplicates while new posts arrive', async () => {
    const [me, friend] = [await createUser(t), await createUser(t)];
    await befriend(t, me, friend);
    for (let i = 0; i < 7; i++) await createPost(t, friend, `p${i}`, 'public');
    await runJobs(t);
    const first = (await get(t, me, '/api/v1/feed?limit=3')).json();
    await createPost(t, friend, 'late', 'public');
    await runJobs(t);
    const second = (await get(t, me, `/api/v1/feed?limit=3&cursor=${first.nextCursor}`)).json();
    const third = (await get(t, me, `/api/v1/feed?limit=3&cursor=${second.nextCursor}`)).json();
    const texts = [...first.items, ...second.items, ...third.items].map((p: { text: string }) => p.text);
    expect(texts).toEqual(['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
    expect(third.nextCursor).toBeUndefined();
  });

  it('unfriend, block and delete remove entries; a new friendship backfills', async () => {
    const [me, a, b] = [await createUser(t), await createUser(t), await createUser(t)];
    await createPost(t, a, 'a before', 'friends');
    await befriend(t, me, a);
    await befriend(t, me, b);
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['a before']); // backfilled
    await createPost(t, b, 'b post', 'friends');
    const doomed = await createPost(t, a, 'a doomed', 'friends');
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['a doomed', 'b post', 'a before']);

    await app.inject({ method: 'DELETE', url: `/api/v1/posts/${doomed.id}`, headers: a.headers });
    expect(await feedTexts(me)).toEqual(['b post', 'a before']);

    await app.inject({ method: 'DELETE', url: `/api/v1/friends/${a.username}`, headers: me.headers });
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['b post']);

    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${me.username}`, headers: b.headers });
    // hidden at once, even before the removal job runs
    expect(await feedTexts(me)).toEqual([]);
    await runJobs(t);
    expect(await feedTexts(b)).toEqual(['b post']);
  });

  it('skips users inactive for longer than the configured days, and rebuilds their feed', async () => {
    const [me, idle] = [await createUser(t), await createUser(t)];
    await befriend(t, me, idle);
    await runJobs(t);
    await sql`UPDATE users SET last_active_at = now() - interval '30 days' WHERE id = ${idle.id}`.execute(
      t.platform.db.primary,
    );
    await createPost(t, me, 'while you were away', 'friends');
    await runJobs(t);
    const entries = await t.platform.db.primary
      .selectFrom('feed_entries')
      .select('post_id')
      .where('user_id', '=', idle.id)
      .execute();
    expect(entries).toHaveLength(0);
    await t.platform.db.primary.transaction().execute(async (trx) => {
      const { enqueue } = await import('../src/platform/queue/queue.ts');
      await enqueue(trx, 'feed.rebuild', { userId: idle.id });
    });
    await runJobs(t);
    expect(await feedTexts(idle)).toEqual(['while you were away']);
  });

  it('refuses bad paging input', async () => {
    const me = await createUser(t);
    for (const query of [
      '?limit=0',
      '?limit=51',
      '?limit=abc',
      '?cursor=%25%25',
      '?cursor=bm9wZQ',
      '?extra=1',
    ]) {
      const res = await get(t, me, `/api/v1/feed${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.requestId).toBeTruthy();
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/feed' })).statusCode).toBe(401);
  });
});
