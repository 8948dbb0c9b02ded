import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/platform/http/cursor.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { befriend, createPost } from './helpers/social.ts';

const t = await buildTestApp(GENEROUS_AUTH_LIMITS);
const { app } = t;

const alice = await createUser(t);
const [bob, carol] = [await createUser(t), await createUser(t)];
await befriend(t, alice, bob);
await befriend(t, alice, carol);

const get = (user: TestUser, url: string) =>
  app.inject({ method: 'GET', url: `/api/v1${url}`, headers: user.headers });

async function expectInvalidCursor(url: string) {
  const res = await get(alice, url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
  expect(res.json()).toEqual({
    error: { code: 'INVALID_CURSOR', message: expect.any(String), requestId: expect.any(String) },
  });
}

const ID = '01890000-0000-7000-8000-000000000000';
/** Times that parse as digits but are beyond int8, beyond timestamptz, or before the sane window. */
const BAD_MICROS = ['99999999999999999999', '9223372036854775807', '253402300800000000', '-1', '1e20'];

describe('forged cursors with parts out of range are a 400 INVALID_CURSOR, never a database error', () => {
  it('notifications: the time part', async () => {
    for (const us of BAD_MICROS) {
      await expectInvalidCursor(`/notifications?cursor=${encodeCursor('notifications', [us, ID])}`);
    }
    await expectInvalidCursor(`/notifications?cursor=${encodeCursor('notifications', ['1', 'not-a-uuid'])}`);
  });

  it('conversations: the time part, and pages still follow on', async () => {
    for (const us of BAD_MICROS) {
      await expectInvalidCursor(`/conversations?cursor=${encodeCursor('conversations', [us, ID])}`);
    }
    await expectInvalidCursor(`/conversations?cursor=${encodeCursor('conversations', ['1', "x' OR 1=1"])}`);

    for (const other of [bob, carol]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/conversations',
        headers: alice.headers,
        payload: { usernames: [other.username] },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const first = await get(alice, '/conversations?limit=1');
    expect(first.statusCode).toBe(200);
    const next = first.json().nextCursor as string;
    expect(next).toEqual(expect.any(String));
    const second = await get(alice, `/conversations?limit=1&cursor=${next}`);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().items).toHaveLength(1);
    expect(second.json().items[0].id).not.toBe(first.json().items[0].id);
  });

  it('collection items: the position part (an integer column), and pages still follow on', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/collections',
      headers: alice.headers,
      payload: { title: 'Cursors', visibility: 'public' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    for (const position of [2 ** 31, 2 ** 53, -1, 0.5, '3', Number.MAX_SAFE_INTEGER]) {
      await expectInvalidCursor(`/collections/${id}?cursor=${encodeCursor(`collection:${id}`, [position])}`);
    }
    for (const text of ['one', 'two']) {
      const post = await createPost(t, alice, text, 'public');
      const added = await app.inject({
        method: 'POST',
        url: `/api/v1/collections/${id}/items`,
        headers: alice.headers,
        payload: { postId: post.id },
      });
      expect(added.statusCode, added.body).toBe(201);
    }
    const first = await get(alice, `/collections/${id}?limit=1`);
    expect(first.json().items).toHaveLength(1);
    const second = await get(alice, `/collections/${id}?limit=1&cursor=${first.json().nextCursor}`);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().items.map((i: { position: number }) => i.position)).toEqual([1]);
  });

  it('every other list: ids that are not UUIDs, parts of the wrong type, another list, garbage', async () => {
    const post = await createPost(t, alice, 'commented', 'public');
    const lists: [string, string][] = [
      ['/feed', 'feed'],
      [`/users/${alice.username}/posts`, `user-posts:${alice.id}`],
      [`/users/${alice.username}/friends`, 'friends'],
      [`/users/${alice.username}/collections`, `user-collections:${alice.id}`],
      ['/friend-requests?direction=incoming', 'requests:incoming'],
      [`/posts/${post.id}/comments`, `comments:${post.id}`],
      ['/tags/kith/posts', 'tag:kith'],
    ];
    for (const [path, list] of lists) {
      const sep = path.includes('?') ? '&' : '?';
      for (const key of [['99999999999999999999'], [2 ** 63], [`${ID}\u0000`], [ID, ID], []]) {
        await expectInvalidCursor(`${path}${sep}cursor=${encodeCursor(list, key)}`);
      }
      await expectInvalidCursor(`${path}${sep}cursor=${encodeCursor('another-list', [ID])}`);
      await expectInvalidCursor(`${path}${sep}cursor=bm90LWpzb24`);
    }
  });
});
