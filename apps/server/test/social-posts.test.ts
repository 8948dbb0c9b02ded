import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost, get } from './helpers/social.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const { app } = t;

describe('posts', () => {
  it('creates a post with server-parsed entities as plain text', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const post = await createPost(t, a, `<b>hi</b> @${b.username} #Kith`, 'public');
    expect(post).toMatchObject({
      text: `<b>hi</b> @${b.username} #Kith`,
      visibility: 'public',
      author: { username: a.username },
      counts: { comments: 0, reactions: { like: 0, love: 0, laugh: 0, wow: 0, sad: 0 } },
      myReaction: null,
      editedAt: null,
    });
    expect(post.entities).toEqual([
      { type: 'mention', start: 10, end: 11 + b.username.length, username: b.username },
      { type: 'hashtag', start: 12 + b.username.length, end: 17 + b.username.length, tag: 'kith' },
    ]);
  });

  it('enforces visibility: public, friends-only, private, and blocks', async () => {
    const [author, friend, stranger] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, author, friend);
    const pub = await createPost(t, author, 'for everyone', 'public');
    const fr = await createPost(t, author, 'for friends', 'friends');
    const priv = await createPost(t, author, 'for me', 'private');
    const can = async (user: typeof author, id: string) =>
      (await get(t, user, `/api/v1/posts/${id}`)).statusCode;
    expect([await can(author, pub.id), await can(author, fr.id), await can(author, priv.id)]).toEqual([
      200, 200, 200,
    ]);
    expect([await can(friend, pub.id), await can(friend, fr.id), await can(friend, priv.id)]).toEqual([
      200, 200, 404,
    ]);
    expect([await can(stranger, pub.id), await can(stranger, fr.id), await can(stranger, priv.id)]).toEqual([
      200, 404, 404,
    ]);

    const list = async (user: typeof author) =>
      (await get(t, user, `/api/v1/users/${author.username}/posts`))
        .json()
        .items.map((p: { text: string }) => p.text);
    expect(await list(author)).toEqual(['for me', 'for friends', 'for everyone']);
    expect(await list(friend)).toEqual(['for friends', 'for everyone']);
    expect(await list(stranger)).toEqual(['for everyone']);

    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${stranger.username}`, headers: author.headers });
    expect(await can(stranger, pub.id)).toBe(404);
    expect((await get(t, stranger, `/api/v1/users/${author.username}/posts`)).statusCode).toBe(404);
  });

  it('edits (author only) and deletes; staff removal is audited', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const mod = await createUser(t, { role: 'moderator' });
    const post = await createPost(t, a, 'first #one', 'public');
    const edit = (user: typeof a, text: string) =>
      app.inject({
        method: 'PATCH',
        url: `/api/v1/posts/${post.id}`,
        headers: user.headers,
        payload: { text },
      });
    expect((await edit(b, 'hijack')).statusCode).toBe(404);
    const edited = await edit(a, 'second #two');
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ text: 'second #two', editedAt: expect.any(String) });
    expect((await get(t, b, '/api/v1/tags/one/posts')).json().items).toHaveLength(0);
    expect((await get(t, b, '/api/v1/tags/two/posts')).json().items.map((p: { id: string }) => p.id)).toEqual(
      [post.id],
    );

    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/posts/${post.id}`, headers: b.headers }))
        .statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/posts/${post.id}`, headers: mod.headers }))
        .statusCode,
    ).toBe(204);
    expect((await get(t, a, `/api/v1/posts/${post.id}`)).statusCode).toBe(404);
    const audit = await t.platform.db.primary
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'moderation.post_remove')
      .where('target_id', '=', post.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe(mod.id);
  });

  it("hides a banned author's posts by id too: no reading, commenting or reacting", async () => {
    const [author, reader] = [await createUser(t), await createUser(t)];
    const mod = await createUser(t, { role: 'moderator' });
    const post = await createPost(t, author, 'soon gone', 'public');
    const ban = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/users/${author.id}/ban`,
      headers: mod.headers,
    });
    expect(ban.statusCode).toBe(200);
    expect((await get(t, reader, `/api/v1/posts/${post.id}`)).statusCode).toBe(404);
    const comment = await app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/comments`,
      headers: reader.headers,
      payload: { text: 'hello?' },
    });
    expect(comment.statusCode).toBe(404);
    const react = await app.inject({
      method: 'PUT',
      url: `/api/v1/posts/${post.id}/reactions/like`,
      headers: reader.headers,
    });
    expect(react.statusCode).toBe(404);
  });

  it('pages a timeline with keyset cursors', async () => {
    const a = await createUser(t);
    for (let i = 0; i < 5; i++) await createPost(t, a, `post ${i}`, 'public');
    const first = (await get(t, a, `/api/v1/users/${a.username}/posts?limit=2`)).json();
    expect(first.items.map((p: { text: string }) => p.text)).toEqual(['post 4', 'post 3']);
    const second = (
      await get(t, a, `/api/v1/users/${a.username}/posts?limit=2&cursor=${first.nextCursor}`)
    ).json();
    expect(second.items.map((p: { text: string }) => p.text)).toEqual(['post 2', 'post 1']);
    const third = (
      await get(t, a, `/api/v1/users/${a.username}/posts?limit=2&cursor=${second.nextCursor}`)
    ).json();
    expect(third.items.map((p: { text: string }) => p.text)).toEqual(['post 0']);
    expect(third.nextCursor).toBeUndefined();
    // a cursor from another list is refused
    const b = await createUser(t);
    const foreign = await get(t, b, `/api/v1/users/${b.username}/posts?cursor=${first.nextCursor}`);
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().error.code).toBe('INVALID_CURSOR');
    // a well-formed cursor for this list whose key is not an id: 400, never a database error
    const forged = Buffer.from(JSON.stringify([`user-posts:${a.id}`, 'not-a-uuid'])).toString('base64url');
    expect((await get(t, a, `/api/v1/users/${a.username}/posts?cursor=${forged}`)).statusCode).toBe(400);
  });

  it('comments: visible posts only, oldest first, deletable by author, post author or moderator', async () => {
    const [author, friend, stranger] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, author, friend);
    const post = await createPost(t, author, 'discuss', 'friends');
    const comment = (user: typeof author, text: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/posts/${post.id}/comments`,
        headers: user.headers,
        payload: { text },
      });
    expect((await comment(stranger, 'let me in')).statusCode).toBe(404);
    const c1 = (await comment(friend, 'one')).json();
    const c2 = (await comment(author, 'two')).json();
    expect(c1).toMatchObject({ postId: post.id, text: 'one', author: { username: friend.username } });
    const list = (await get(t, friend, `/api/v1/posts/${post.id}/comments`)).json();
    expect(list.items.map((c: { text: string }) => c.text)).toEqual(['one', 'two']);
    expect((await get(t, friend, `/api/v1/posts/${post.id}`)).json().counts.comments).toBe(2);

    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/comments/${c2.id}`, headers: stranger.headers }))
        .statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/comments/${c2.id}`, headers: friend.headers }))
        .statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/comments/${c1.id}`, headers: author.headers }))
        .statusCode,
    ).toBe(204);
    expect((await get(t, friend, `/api/v1/posts/${post.id}`)).json().counts.comments).toBe(1);
  });

  it('reactions: one per user, counts per kind, my own reaction', async () => {
    const [a, b, c] = [await createUser(t), await createUser(t), await createUser(t)];
    const post = await createPost(t, a, 'react to me', 'public');
    const react = (user: typeof a, kind: string, method: 'PUT' | 'DELETE' = 'PUT') =>
      app.inject({ method, url: `/api/v1/posts/${post.id}/reactions/${kind}`, headers: user.headers });
    expect((await react(b, 'like')).statusCode).toBe(204);
    expect((await react(b, 'like')).statusCode).toBe(204); // idempotent
    expect((await react(c, 'love')).statusCode).toBe(204);
    expect((await react(b, 'wow')).statusCode).toBe(204); // replaces like
    const seen = (await get(t, b, `/api/v1/posts/${post.id}`)).json();
    expect(seen.counts.reactions).toEqual({ like: 0, love: 1, laugh: 0, wow: 1, sad: 0 });
    expect(seen.myReaction).toBe('wow');
    expect((await react(b, 'wow', 'DELETE')).statusCode).toBe(204);
    expect((await get(t, b, `/api/v1/posts/${post.id}`)).json()).toMatchObject({ myReaction: null });
    expect((await react(b, 'angry')).statusCode).toBe(400);
  });

  it('replays a post created with the same Idempotency-Key', async () => {
    const a = await createUser(t);
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/posts',
        headers: { ...a.headers, 'idempotency-key': 'post-1' },
        payload: { text: 'once' },
      });
    const [first, second] = [await send(), await send()];
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    expect((await get(t, a, `/api/v1/users/${a.username}/posts`)).json().items).toHaveLength(1);
  });

  it('answers hostile input with 4xx and stores nothing', async () => {
    const a = await createUser(t);
    const bad = [
      { text: '' },
      { text: 'x'.repeat(5001) },
      { text: 'ok', visibility: 'everyone' },
      { text: 'ok', authorId: a.id },
      { text: 'nul \u0000 byte' },
      { text: 42 },
      { text: '   \n\t ' },
      { text: '\u200b\u200d\u202e\u2066 \ufeff' }, // zero-width and bidi controls only
      { text: 'half a pair \ud800' },
    ];
    for (const payload of bad) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/posts', headers: a.headers, payload });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 50)).toBe(400);
    }
    const post = await createPost(t, a, 'kept', 'public');
    const blankEdit = await app.inject({
      method: 'PATCH',
      url: `/api/v1/posts/${post.id}`,
      headers: a.headers,
      payload: { text: '\u200b \u2067' },
    });
    expect(blankEdit.statusCode).toBe(400);
    const blankComment = await app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/comments`,
      headers: a.headers,
      payload: { text: ' \u200c ' },
    });
    expect(blankComment.statusCode).toBe(400);
    expect((await get(t, a, `/api/v1/posts/${post.id}`)).json()).toMatchObject({
      text: 'kept',
      counts: { comments: 0 },
    });
    expect((await get(t, a, '/api/v1/posts/not-a-uuid')).statusCode).toBe(400);
    expect((await get(t, a, '/api/v1/posts/01890000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect((await get(t, a, `/api/v1/users/${a.username}/posts?limit=51`)).statusCode).toBe(400);
    expect((await get(t, a, '/api/v1/tags/bad%20tag/posts')).statusCode).toBe(400);
    expect((await get(t, a, `/api/v1/users/${a.username}/posts`)).json().items).toHaveLength(1);
    await runJobs(t);
  });
});
