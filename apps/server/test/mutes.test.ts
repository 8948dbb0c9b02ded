import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { call, openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost } from './helpers/social.ts';

// Mutes (issue 14): a muted user's posts and notifications leave the muter's views, a muted
// hashtag's posts leave the home feed, a muted conversation stops counting as unread — applied in
// the queries, so feed pages stay full, and invisible to the muted side.
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const db = t.platform.db.primary;

const feedIds = async (viewer: TestUser, query = '') => {
  const res = await call(t, viewer, 'GET', `/feed${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: { id: string }[]; nextCursor?: string };
};

const expectError = (
  res: { statusCode: number; body: string; headers: Record<string, unknown> },
  status: number,
  code: string,
) => {
  expect(res.statusCode, res.body).toBe(status);
  const { error } = JSON.parse(res.body);
  expect(error).toMatchObject({ code, requestId: res.headers['x-request-id'] });
  expect(typeof error.message).toBe('string');
};

async function friendsOf(reader: TestUser, ...others: TestUser[]) {
  for (const other of others) await befriend(t, reader, other);
}

describe('muting a user', () => {
  it('takes their posts out of my feed, keeps pages full, and they notice nothing', async () => {
    const [me, loud, quiet] = [await createUser(t), await createUser(t), await createUser(t)];
    await friendsOf(me, loud, quiet);
    const fromQuiet: string[] = [];
    for (let i = 0; i < 5; i++) {
      fromQuiet.push((await createPost(t, quiet, `quiet ${i}`)).id);
      await createPost(t, loud, `loud ${i}`);
    }
    await runJobs(t);
    expect((await feedIds(me)).items).toHaveLength(10);

    const muted = await call(t, me, 'PUT', `/mutes/users/${loud.username}`, {});
    expect(muted.statusCode, muted.body).toBe(200);
    expect(muted.json()).toMatchObject({ user: { id: loud.id, username: loud.username }, expiresAt: null });

    // the cached first page was dropped; a page of 3 is full of the other friend's posts
    const first = await feedIds(me, '?limit=3');
    expect(first.items.map((p) => p.id)).toEqual(fromQuiet.slice(-3).reverse());
    const second = await feedIds(me, `?limit=3&cursor=${first.nextCursor}`);
    expect(second.items.map((p) => p.id)).toEqual(fromQuiet.slice(0, 2).reverse());
    expect(second.nextCursor).toBeUndefined();

    // the muted user still sees my posts, and nothing tells them
    const mine = await createPost(t, me, 'hello friends');
    await runJobs(t);
    expect((await feedIds(loud)).items.map((p) => p.id)).toContain(mine.id);
    const profile = await call(t, loud, 'GET', `/users/${me.username}`);
    expect(profile.body).not.toMatch(/mute/i);

    expect((await call(t, me, 'DELETE', `/mutes/users/${loud.username}`)).statusCode).toBe(204);
    expect((await feedIds(me)).items).toHaveLength(11);
  });

  it('hides their notifications, stores none while muted, and lists the mute', async () => {
    const [me, pest, friend] = [await createUser(t), await createUser(t), await createUser(t)];
    await friendsOf(me, pest, friend);
    const post = await createPost(t, me, 'react to this');
    await call(t, pest, 'PUT', `/posts/${post.id}/reactions/like`);
    await runJobs(t);
    const before = await call(t, me, 'GET', '/notifications');
    expect(before.json().items.some((n: { kind: string }) => n.kind === 'reaction')).toBe(true);
    // two friend acceptances and the reaction
    expect((await call(t, me, 'GET', '/notifications/unread-count')).json()).toEqual({ count: 3 });

    await call(t, me, 'PUT', `/mutes/users/${pest.username}`, { durationSeconds: 3600 });
    // what came before is hidden too
    const hidden = await call(t, me, 'GET', '/notifications');
    expect(hidden.json().items.filter((n: { kind: string }) => n.kind === 'reaction')).toEqual([]);
    expect((await call(t, me, 'GET', '/notifications/unread-count')).json()).toEqual({ count: 1 });

    // a comment while muted: no row at all (nothing pushed), a friend's comment still notifies
    const comment = await call(t, pest, 'POST', `/posts/${post.id}/comments`, { text: 'still here' });
    expect(comment.statusCode, comment.body).toBe(201);
    await call(t, friend, 'POST', `/posts/${post.id}/comments`, { text: 'hi' });
    await runJobs(t);
    const rows = await db
      .selectFrom('notifications')
      .select(['kind', 'actor_ids'])
      .where('user_id', '=', me.id)
      .where('kind', '=', 'comment')
      .execute();
    expect(rows.map((r) => r.actor_ids)).toEqual([[friend.id]]);

    const list = await call(t, me, 'GET', '/mutes/users');
    expect(list.statusCode).toBe(200);
    const [item] = list.json().items;
    expect(item.user.username).toBe(pest.username);
    expect(Date.parse(item.expiresAt) - Date.parse(item.mutedAt)).toBe(3600_000);

    // unmuted: the earlier reaction is back
    await call(t, me, 'DELETE', `/mutes/users/${pest.username}`);
    const back = await call(t, me, 'GET', '/notifications');
    expect(back.json().items.some((n: { kind: string }) => n.kind === 'reaction')).toBe(true);
  });

  it('is not told of their new posts live (feed.new goes only to readers not muting the author)', async () => {
    const [me, other, author] = [await createUser(t), await createUser(t), await createUser(t)];
    await call(t, me, 'PUT', `/mutes/users/${author.username}`, {});
    expect(await t.services.mutes.notMuting(author.id, [me.id, other.id])).toEqual([other.id]);
    expect(await t.services.mutes.notMuting(other.id, [me.id, author.id])).toEqual([me.id, author.id]);
  });

  it('ends by itself: an expired mute hides nothing and the job removes it', async () => {
    const [me, other] = [await createUser(t), await createUser(t)];
    await friendsOf(me, other);
    const post = await createPost(t, other, 'back soon');
    await runJobs(t);
    await call(t, me, 'PUT', `/mutes/users/${other.username}`, { durationSeconds: 60 });
    expect((await feedIds(me)).items.map((p) => p.id)).not.toContain(post.id);
    // the minute has passed
    await sql`UPDATE user_mutes SET created_at = now() - interval '2 minutes', expires_at = now() - interval '1 minute'
               WHERE user_id = ${me.id}`.execute(db);
    await t.services.social.feed.invalidate([me.id]);
    expect((await feedIds(me)).items.map((p) => p.id)).toContain(post.id);
    expect((await call(t, me, 'GET', '/mutes/users')).json().items).toEqual([]);
    expect(await t.services.mutes.deleteExpired()).toBeGreaterThanOrEqual(1);
    const left = await db.selectFrom('user_mutes').select('muted_id').where('user_id', '=', me.id).execute();
    expect(left).toEqual([]);
  });
});

describe('muting a hashtag', () => {
  it('takes posts carrying it out of my feed, whatever its case', async () => {
    const [me, friend] = [await createUser(t), await createUser(t)];
    await friendsOf(me, friend);
    const tag = `Spoiler${randomUUID().slice(0, 6)}`;
    const spoiler = await createPost(t, friend, `the ending! #${tag}`);
    const plain = await createPost(t, friend, 'nothing to hide');
    await runJobs(t);

    const res = await call(t, me, 'PUT', `/mutes/hashtags/${tag.toUpperCase()}`, {});
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().tag).toBe(tag.toLowerCase());
    expect((await feedIds(me)).items.map((p) => p.id)).toEqual([plain.id]);
    expect(
      (await call(t, me, 'GET', '/mutes/hashtags')).json().items.map((m: { tag: string }) => m.tag),
    ).toEqual([tag.toLowerCase()]);
    // the tag page, asked for by name, still shows it
    const page = await call(t, me, 'GET', `/tags/${tag.toLowerCase()}/posts`);
    expect(page.statusCode).toBe(200);

    expect((await call(t, me, 'DELETE', `/mutes/hashtags/${tag}`)).statusCode).toBe(204);
    expect((await feedIds(me)).items.map((p) => p.id)).toEqual([plain.id, spoiler.id]);
  });
});

describe('muting a conversation', () => {
  it('leaves it out of my unread total and marks it in my list; only members may mute it', async () => {
    const [me, friend, stranger] = [await createUser(t), await createUser(t), await createUser(t)];
    await friendsOf(me, friend);
    const { id } = await openConversation(t, friend, [me]);
    await sendMessage(t, friend, id, 'one');
    await sendMessage(t, friend, id, 'two');
    expect(await t.services.chat.chat.unreadCounts(me.id)).toEqual({ [id]: 2 });

    const res = await call(t, me, 'PUT', `/mutes/conversations/${id}`, {});
    expect(res.statusCode, res.body).toBe(200);
    expect(await t.services.chat.chat.unreadCounts(me.id)).toEqual({});
    const list = (await call(t, me, 'GET', '/conversations')).json().items;
    expect(list).toMatchObject([{ id, muted: true, unreadCount: 2 }]);
    const theirs = (await call(t, friend, 'GET', '/conversations')).json().items;
    expect(theirs).toMatchObject([{ id, muted: false }]);
    expect((await call(t, me, 'GET', '/mutes/conversations')).json().items).toMatchObject([
      { conversationId: id, expiresAt: null },
    ]);

    expectError(await call(t, stranger, 'PUT', `/mutes/conversations/${id}`, {}), 404, 'NOT_FOUND');
    expect((await call(t, me, 'DELETE', `/mutes/conversations/${id}`)).statusCode).toBe(204);
    expect(await t.services.chat.chat.unreadCounts(me.id)).toEqual({ [id]: 2 });
  });
});

describe('bad input', () => {
  it('answers a clear 4xx and changes nothing', async () => {
    const me = await createUser(t);
    expectError(await call(t, me, 'PUT', `/mutes/users/${me.username}`, {}), 400, 'SELF_MUTE');
    expectError(await call(t, me, 'PUT', '/mutes/users/nobody_here_at_all', {}), 404, 'NOT_FOUND');
    expectError(await call(t, me, 'PUT', '/mutes/users/bad%20name', {}), 400, 'VALIDATION_FAILED');
    const other = await createUser(t);
    for (const body of [
      { durationSeconds: 10 },
      { durationSeconds: 10 ** 9 },
      { durationSeconds: 1.5 },
      { forever: true },
    ])
      expectError(await call(t, me, 'PUT', `/mutes/users/${other.username}`, body), 400, 'VALIDATION_FAILED');
    expectError(await call(t, me, 'PUT', '/mutes/hashtags/12345', {}), 400, 'INVALID_PARAMETER');
    expectError(await call(t, me, 'PUT', `/mutes/hashtags/${'a'.repeat(101)}`, {}), 400, 'VALIDATION_FAILED');
    expectError(await call(t, me, 'PUT', '/mutes/conversations/not-a-uuid', {}), 400, 'VALIDATION_FAILED');
    expectError(await call(t, undefined, 'GET', '/mutes/users'), 401, 'UNAUTHENTICATED');
    expectError(await call(t, me, 'GET', '/mutes/users?cursor=nonsense'), 400, 'INVALID_CURSOR');
    const rows = await db.selectFrom('user_mutes').select('muted_id').where('user_id', '=', me.id).execute();
    expect(rows).toEqual([]);
  });

  it('caps the mutes one account may hold', async () => {
    const me = await createUser(t);
    const tags = Array.from({ length: 200 }, (_, i) => ({ user_id: me.id, tag: `capped${i}` }));
    await db.insertInto('hashtag_mutes').values(tags).execute();
    expectError(await call(t, me, 'PUT', '/mutes/hashtags/onemore', {}), 409, 'MUTE_LIMIT');
    // renewing one already muted is not a new one
    expect((await call(t, me, 'PUT', '/mutes/hashtags/capped7', { durationSeconds: 600 })).statusCode).toBe(
      200,
    );
  });
});
