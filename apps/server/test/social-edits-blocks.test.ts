import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { befriend, createPost, get } from './helpers/social.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const { app } = t;

const comment = async (user: TestUser, postId: string, text: string) => {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/posts/${postId}/comments`,
    headers: user.headers,
    payload: { text },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; text: string; editedAt: string | null };
};
const editComment = (user: TestUser, id: string, payload: unknown) =>
  app.inject({
    method: 'PATCH',
    url: `/api/v1/comments/${id}`,
    headers: user.headers,
    payload: payload as object,
  });
const textOf = async (user: TestUser, postId: string, id: string) =>
  (await get(t, user, `/api/v1/posts/${postId}/comments`))
    .json()
    .items.find((c: { id: string }) => c.id === id);

describe('editing a comment', () => {
  it('lets its author change the text (entities re-parsed, editedAt set); a repeat changes nothing', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    const post = await createPost(t, a, 'hello');
    const c = await comment(b, post.id, 'first');
    expect(c.editedAt).toBeNull();

    const edited = await editComment(b, c.id, { text: `  second #tag @${a.username} ` });
    expect(edited.statusCode, edited.body).toBe(200);
    const body = edited.json();
    expect(body).toMatchObject({
      id: c.id,
      text: `second #tag @${a.username}`,
      editedAt: expect.any(String),
    });
    expect(body.entities.map((e: { type: string }) => e.type)).toEqual(['hashtag', 'mention']);

    // a retried PATCH with the same text is harmless: same body, same editedAt
    const again = await editComment(b, c.id, { text: `second #tag @${a.username}` });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);
    expect(await textOf(a, post.id, c.id)).toEqual(body);
  });

  it('refuses bad input and other people with a clear 4xx, changing nothing', async () => {
    const [a, b, mod] = [
      await createUser(t),
      await createUser(t),
      await createUser(t, { role: 'moderator' }),
    ];
    await befriend(t, a, b);
    const post = await createPost(t, a, 'hello', 'public');
    const c = await comment(b, post.id, 'original');
    const cases: [TestUser, string, unknown, number, string][] = [
      [b, c.id, { text: '' }, 400, 'VALIDATION_FAILED'],
      [b, c.id, { text: ' \n\t ' }, 400, 'VALIDATION_FAILED'],
      [b, c.id, { text: 'x'.repeat(2001) }, 400, 'VALIDATION_FAILED'],
      [b, c.id, { text: 'ok', extra: 1 }, 400, 'VALIDATION_FAILED'],
      [b, c.id, { text: 42 }, 400, 'VALIDATION_FAILED'],
      [b, c.id, {}, 400, 'VALIDATION_FAILED'],
      [b, 'not-a-uuid', { text: 'ok' }, 400, 'VALIDATION_FAILED'],
      [b, '0190a5b2-0000-7000-8000-000000000000', { text: 'ok' }, 404, 'NOT_FOUND'],
      // the post's author and moderators may delete the comment, but not put words in its author's mouth
      [a, c.id, { text: 'hijack' }, 404, 'NOT_FOUND'],
      [mod, c.id, { text: 'hijack' }, 404, 'NOT_FOUND'],
    ];
    for (const [user, id, payload, status, code] of cases) {
      const res = await editComment(user, id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().error).toMatchObject({
        code,
        message: expect.any(String),
        requestId: expect.any(String),
      });
    }
    const anonymous = await app.inject({
      method: 'PATCH',
      url: `/api/v1/comments/${c.id}`,
      payload: { text: 'x' },
    });
    expect(anonymous.statusCode).toBe(401);
    expect(await textOf(a, post.id, c.id)).toMatchObject({ text: 'original', editedAt: null });

    // deleted comments, and comments on a post the author can no longer see, cannot be edited
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/comments/${c.id}`, headers: b.headers }))
        .statusCode,
    ).toBe(204);
    expect((await editComment(b, c.id, { text: 'back' })).statusCode).toBe(404);
    const d = await comment(b, post.id, 'still here');
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${b.username}`, headers: a.headers });
    expect((await editComment(b, d.id, { text: 'sneaky' })).statusCode).toBe(404);
    await app.inject({ method: 'DELETE', url: `/api/v1/blocks/${b.username}`, headers: a.headers });
    expect(await textOf(a, post.id, d.id)).toMatchObject({ text: 'still here', editedAt: null });
  });
});

describe('the blocked list', () => {
  it('lists the people I blocked, newest first, in keyset pages; unblocking removes them', async () => {
    const me = await createUser(t);
    const others = [await createUser(t), await createUser(t), await createUser(t)];
    const stranger = await createUser(t);
    for (const o of others) {
      const res = await app.inject({
        method: 'PUT',
        url: `/api/v1/blocks/${o.username}`,
        headers: me.headers,
      });
      expect(res.statusCode).toBe(204);
    }
    // blocking twice is idempotent: still one entry; someone else's blocks are not mine
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${others[0]!.username}`, headers: me.headers });
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${me.username}`, headers: stranger.headers });

    const first = await get(t, me, '/api/v1/blocks?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.items.map((u: { username: string }) => u.username)).toEqual([
      others[2]!.username,
      others[1]!.username,
    ]);
    expect(page1.items[0]).toEqual({
      id: others[2]!.id,
      username: others[2]!.username,
      displayName: expect.any(String),
      blockedAt: expect.any(String),
    });
    const page2 = (await get(t, me, `/api/v1/blocks?limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.items.map((u: { username: string }) => u.username)).toEqual([others[0]!.username]);
    expect(page2.nextCursor).toBeUndefined();

    await app.inject({ method: 'DELETE', url: `/api/v1/blocks/${others[1]!.username}`, headers: me.headers });
    expect((await get(t, me, '/api/v1/blocks')).json().items.map((u: { id: string }) => u.id)).toEqual([
      others[2]!.id,
      others[0]!.id,
    ]);
    expect((await get(t, stranger, '/api/v1/blocks')).json().items.map((u: { id: string }) => u.id)).toEqual([
      me.id,
    ]);
    expect((await get(t, others[0]!, '/api/v1/blocks')).json()).toEqual({ items: [] });
  });

  it('refuses bad paging input and anonymous callers with a clear 4xx', async () => {
    const me = await createUser(t);
    const foreign = Buffer.from(JSON.stringify(['friends', '0190a5b2-0000-7000-8000-000000000000'])).toString(
      'base64url',
    );
    const forged = Buffer.from(JSON.stringify(['blocks', '99999999999999999999', 'x'])).toString('base64url');
    for (const [query, code] of [
      ['limit=0', 'VALIDATION_FAILED'],
      ['limit=51', 'VALIDATION_FAILED'],
      ['limit=abc', 'VALIDATION_FAILED'],
      ['cursor=garbage!', 'VALIDATION_FAILED'],
      ['other=1', 'VALIDATION_FAILED'],
      [`cursor=${foreign}`, 'INVALID_CURSOR'],
      [`cursor=${forged}`, 'INVALID_CURSOR'],
    ] as const) {
      const res = await get(t, me, `/api/v1/blocks?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error).toMatchObject({
        code,
        message: expect.any(String),
        requestId: expect.any(String),
      });
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/blocks' })).statusCode).toBe(401);
  });
});
