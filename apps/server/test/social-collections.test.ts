import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';

const MAX_ITEMS = 30;
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, COLLECTION_MAX_ITEMS: String(MAX_ITEMS) });
const { app } = t;
const db = t.platform.db.primary;

type Visibility = 'public' | 'friends' | 'private';
type Json = Record<string, unknown>;
interface Item {
  position: number;
  postId: string;
  post: { id: string; text: string } | null;
}

const call = (user: TestUser | undefined, method: string, url: string, payload?: unknown, headers = {}) =>
  app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: { ...(user?.headers ?? {}), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Json }),
  });

async function befriend(a: TestUser, b: TestUser) {
  const sent = await call(a, 'POST', '/friend-requests', { username: b.username });
  expect(sent.statusCode).toBe(201);
  expect((await call(b, 'POST', `/friend-requests/${sent.json().request.id}/accept`)).statusCode).toBe(204);
}

async function post(author: TestUser, visibility: Visibility = 'public', text = `post ${Math.random()}`) {
  const res = await call(author, 'POST', '/posts', { text, visibility });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

async function createCollection(owner: TestUser, body: Json = {}) {
  const res = await call(owner, 'POST', '/collections', {
    title: 'Favourites',
    visibility: 'public',
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

async function add(owner: TestUser, collectionId: string, postId: string, position?: number) {
  const res = await call(owner, 'POST', `/collections/${collectionId}/items`, {
    postId,
    ...(position === undefined ? {} : { position }),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Item;
}

/** Every item of a collection as the viewer sees it, following cursors. */
async function itemsOf(viewer: TestUser, collectionId: string, limit = 50) {
  const items: Item[] = [];
  let cursor: string | undefined;
  do {
    const res = await call(
      viewer,
      'GET',
      `/collections/${collectionId}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    items.push(...res.json().items);
    cursor = res.json().nextCursor;
  } while (cursor);
  return items;
}

/** The stored rows, straight from Postgres: (post, position) in order, and item_count. */
async function stored(collectionId: string) {
  const rows = await db
    .selectFrom('collection_items')
    .select(['post_id', 'position'])
    .where('collection_id', '=', collectionId)
    .orderBy('position')
    .execute();
  const c = await db
    .selectFrom('collections')
    .select('item_count')
    .where('id', '=', collectionId)
    .executeTakeFirst();
  return {
    postIds: rows.map((r) => r.post_id),
    positions: rows.map((r) => r.position),
    count: c?.item_count,
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function expectGapFree(collectionId: string, expectedPostIds?: string[]) {
  const s = await stored(collectionId);
  expect(s.positions).toEqual(range(s.positions.length));
  expect(s.count).toBe(s.positions.length);
  if (expectedPostIds) expect([...s.postIds].sort()).toEqual([...expectedPostIds].sort());
  return s;
}

describe('collections', () => {
  it('creates, reads, edits, orders and deletes a collection', async () => {
    const owner = await createUser(t);
    const created = await call(owner, 'POST', '/collections', {
      title: '  Summer reads ',
      description: 'Posts worth keeping',
      visibility: 'private',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      title: 'Summer reads',
      description: 'Posts worth keeping',
      visibility: 'private',
      itemCount: 0,
      owner: { id: owner.id, username: owner.username },
    });
    const id = created.json().id as string;
    const defaulted = await call(owner, 'POST', '/collections', { title: 'Defaults' });
    expect(defaulted.json()).toMatchObject({ description: '', visibility: 'friends' });

    const [p1, p2, p3, p4] = [
      await post(owner),
      await post(owner, 'private'),
      await post(owner),
      await post(owner),
    ];
    expect((await add(owner, id, p1!)).position).toBe(0);
    const second = await add(owner, id, p2!);
    expect(second).toMatchObject({ position: 1, postId: p2, post: { id: p2 } });
    await add(owner, id, p3!);
    // inserting at a position moves the others down
    expect((await add(owner, id, p4!, 1)).position).toBe(1);
    expect((await itemsOf(owner, id)).map((i) => [i.position, i.postId])).toEqual([
      [0, p1],
      [1, p4],
      [2, p2],
      [3, p3],
    ]);
    // insert at the end explicitly
    const p5 = await post(owner);
    expect((await add(owner, id, p5, 4)).position).toBe(4);

    // pages by position
    const first = await call(owner, 'GET', `/collections/${id}?limit=2`);
    expect(first.json().items.map((i: Item) => i.postId)).toEqual([p1, p4]);
    expect(first.json().itemCount).toBe(5);
    expect((await itemsOf(owner, id, 2)).map((i) => i.postId)).toEqual([p1, p4, p2, p3, p5]);

    // removing closes the gap
    expect((await call(owner, 'DELETE', `/collections/${id}/items/${p4}`)).statusCode).toBe(204);
    expect((await expectGapFree(id)).postIds).toEqual([p1, p2, p3, p5]);
    expect((await call(owner, 'DELETE', `/collections/${id}/items/${p4}`)).statusCode).toBe(404);

    // a new order
    const order = [p5, p3, p1, p2];
    expect((await call(owner, 'PUT', `/collections/${id}/items`, { postIds: order })).statusCode).toBe(204);
    expect((await expectGapFree(id)).postIds).toEqual(order);
    expect((await itemsOf(owner, id)).map((i) => i.postId)).toEqual(order);

    const patched = await call(owner, 'PATCH', `/collections/${id}`, {
      title: 'Autumn reads',
      visibility: 'public',
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      title: 'Autumn reads',
      description: 'Posts worth keeping',
      visibility: 'public',
      itemCount: 4,
    });
    expect(Date.parse(patched.json().updatedAt)).toBeGreaterThanOrEqual(Date.parse(patched.json().createdAt));

    expect((await call(owner, 'DELETE', `/collections/${id}`)).statusCode).toBe(204);
    expect((await call(owner, 'GET', `/collections/${id}`)).statusCode).toBe(404);
    expect((await call(owner, 'DELETE', `/collections/${id}`)).statusCode).toBe(404);
    expect(await stored(id)).toMatchObject({ postIds: [], count: undefined });
    // the posts stay
    expect((await call(owner, 'GET', `/posts/${p1}`)).statusCode).toBe(200);
  });

  it('replays a create sent twice with the same Idempotency-Key', async () => {
    const owner = await createUser(t);
    const body = { title: 'Once', visibility: 'public' };
    const headers = { 'idempotency-key': `create-${owner.id}` };
    const [a, b] = [
      await call(owner, 'POST', '/collections', body, headers),
      await call(owner, 'POST', '/collections', body, headers),
    ];
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json().id).toBe(a.json().id);
    const list = await call(owner, 'GET', `/users/${owner.username}/collections`);
    expect(list.json().items).toHaveLength(1);
    const other = await call(owner, 'POST', '/collections', { ...body, title: 'Twice' }, headers);
    expect(other.statusCode).toBe(422);
  });

  it('shows each viewer only the collections they may see', async () => {
    const [owner, friend, stranger, blocked] = [
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
    ];
    await befriend(owner, friend);
    await befriend(owner, blocked);
    const ids = {
      public: await createCollection(owner, { title: 'pub', visibility: 'public' }),
      friends: await createCollection(owner, { title: 'fr', visibility: 'friends' }),
      private: await createCollection(owner, { title: 'priv', visibility: 'private' }),
    };
    expect((await call(blocked, 'PUT', `/blocks/${owner.username}`)).statusCode).toBe(204);

    const expectations: [TestUser, Visibility[]][] = [
      [owner, ['public', 'friends', 'private']],
      [friend, ['public', 'friends']],
      [stranger, ['public']],
      [blocked, []],
    ];
    for (const [viewer, visible] of expectations) {
      for (const v of ['public', 'friends', 'private'] as const) {
        const res = await call(viewer, 'GET', `/collections/${ids[v]}`);
        expect(res.statusCode, `${v} for ${viewer.username}`).toBe(visible.includes(v) ? 200 : 404);
        if (res.statusCode === 404) expect(res.json().error.code).toBe('NOT_FOUND');
      }
      const list = await call(viewer, 'GET', `/users/${owner.username}/collections`);
      if (visible.length === 0) {
        expect(list.statusCode).toBe(404);
      } else {
        // newest first
        expect(list.json().items.map((c: { visibility: string }) => c.visibility)).toEqual(
          [...visible].reverse(),
        );
      }
    }
    // the blocker is hidden from the blocked side too
    expect((await call(owner, 'GET', `/users/${blocked.username}/collections`)).statusCode).toBe(404);

    // a banned or deactivated owner's collections are gone for everyone else
    const gone = await createUser(t);
    const goneId = await createCollection(gone, { visibility: 'public' });
    expect((await call(stranger, 'GET', `/collections/${goneId}`)).statusCode).toBe(200);
    await db
      .updateTable('users')
      .set({ deactivated_at: new Date(), erase_after: new Date(Date.now() + 86_400_000) })
      .where('id', '=', gone.id)
      .execute();
    expect((await call(stranger, 'GET', `/collections/${goneId}`)).statusCode).toBe(404);
    expect((await call(stranger, 'GET', `/users/${gone.username}/collections`)).statusCode).toBe(404);
    await db.updateTable('users').set({ banned_at: new Date() }).where('id', '=', owner.id).execute();
    expect((await call(friend, 'GET', `/collections/${ids.public}`)).statusCode).toBe(404);
    await db.updateTable('users').set({ banned_at: null }).where('id', '=', owner.id).execute();

    // cursor pages
    const extra = [];
    for (let i = 0; i < 3; i++) extra.push(await createCollection(owner, { title: `more ${i}` }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await call(
        stranger,
        'GET',
        `/users/${owner.username}/collections?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      expect(res.json().items.length).toBeLessThanOrEqual(2);
      seen.push(...res.json().items.map((c: { id: string }) => c.id));
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual([...extra].reverse().concat(ids.public));
  });

  it('leaves out, for each viewer, the posts that viewer cannot see; the owner keeps their slots', async () => {
    const [owner, ownersFriend, viewer, blocker, other] = [
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
    ];
    await befriend(owner, ownersFriend);
    const id = await createCollection(owner, { visibility: 'public' });
    const friendsOnly = await post(ownersFriend, 'friends');
    const visible1 = await post(other, 'public');
    const deleted = await post(other, 'public');
    const byBlocker = await post(blocker, 'public');
    const ownPrivate = await post(owner, 'private');
    const visible2 = await post(owner, 'public');
    for (const p of [friendsOnly, visible1, deleted, byBlocker, ownPrivate, visible2])
      await add(owner, id, p);
    expect((await call(other, 'DELETE', `/posts/${deleted}`)).statusCode).toBe(204);
    expect((await call(blocker, 'PUT', `/blocks/${viewer.username}`)).statusCode).toBe(204);

    // the viewer sees only what they may, in order, and full pages despite the hidden ones
    expect((await itemsOf(viewer, id)).map((i) => i.postId)).toEqual([visible1, visible2]);
    const page = await call(viewer, 'GET', `/collections/${id}?limit=1`);
    expect(page.json().items.map((i: Item) => i.postId)).toEqual([visible1]);
    expect(page.json().nextCursor).toBeDefined();
    expect((await itemsOf(viewer, id, 1)).map((i) => i.postId)).toEqual([visible1, visible2]);
    expect((await itemsOf(viewer, id)).every((i) => i.post !== null)).toBe(true);

    // the owner's friend sees the friends-only post too
    expect((await itemsOf(ownersFriend, id)).map((i) => i.postId)).toEqual([
      friendsOnly,
      visible1,
      byBlocker,
      visible2,
    ]);

    // the owner keeps every slot; the deleted post comes as null
    const mine = await itemsOf(owner, id);
    expect(mine.map((i) => [i.position, i.postId, i.post?.id ?? null])).toEqual([
      [0, friendsOnly, friendsOnly],
      [1, visible1, visible1],
      [2, deleted, null],
      [3, byBlocker, byBlocker],
      [4, ownPrivate, ownPrivate],
      [5, visible2, visible2],
    ]);

    // when the owner loses sight of a post, its slot stays, as null, and can be removed
    expect((await call(ownersFriend, 'DELETE', `/friends/${owner.username}`)).statusCode).toBe(204);
    expect((await itemsOf(owner, id))[0]).toMatchObject({ position: 0, postId: friendsOnly, post: null });
    expect((await call(owner, 'DELETE', `/collections/${id}/items/${deleted}`)).statusCode).toBe(204);
    await expectGapFree(id);
  });

  it('adds only posts the owner can see, once, up to the cap; only the owner writes', async () => {
    const [owner, friend, stranger] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(owner, friend);
    const id = await createCollection(owner, { visibility: 'public' });
    const p = await post(owner);
    await add(owner, id, p);

    const strangersFriendsOnly = await post(stranger, 'friends');
    const strangersPrivate = await post(stranger, 'private');
    for (const hidden of [strangersFriendsOnly, strangersPrivate, '0190a000-0000-7000-8000-000000000000']) {
      const res = await call(owner, 'POST', `/collections/${id}/items`, { postId: hidden });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }

    const dup = await call(owner, 'POST', `/collections/${id}/items`, { postId: p });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('ALREADY_IN_COLLECTION');

    const past = await call(owner, 'POST', `/collections/${id}/items`, {
      postId: await post(owner),
      position: 2,
    });
    expect(past.statusCode).toBe(409);
    expect(past.json().error).toMatchObject({ code: 'POSITION_OUT_OF_RANGE', details: { itemCount: 1 } });

    // a friend can read the collection but not write to it; a stranger cannot see a private one
    const friendsPost = await post(friend);
    const writes = [
      ['POST', `/collections/${id}/items`, { postId: friendsPost }],
      ['DELETE', `/collections/${id}/items/${p}`, undefined],
      ['PUT', `/collections/${id}/items`, { postIds: [p] }],
      ['PATCH', `/collections/${id}`, { title: 'mine now' }],
      ['DELETE', `/collections/${id}`, undefined],
    ] as const;
    const privateId = await createCollection(owner, { visibility: 'private' });
    for (const [method, url, body] of writes) {
      const res = await call(friend, method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
      const onPrivate = await call(stranger, method, url.replace(id, privateId), body);
      expect(onPrivate.statusCode, `${method} ${url} (private)`).toBe(404);
    }
    expect((await expectGapFree(id)).postIds).toEqual([p]);
    expect((await call(owner, 'GET', `/collections/${id}`)).json().title).toBe('Favourites');

    // the cap: fill up with posts by several authors (post creation is rate-limited per author)
    const authors = [owner, friend, await createUser(t)];
    for (let i = 1; i < MAX_ITEMS; i++) await add(owner, id, await post(authors[i % 3]!));
    const full = await call(owner, 'POST', `/collections/${id}/items`, { postId: await post(owner) });
    expect(full.statusCode).toBe(409);
    expect(full.json().error).toMatchObject({ code: 'COLLECTION_FULL', details: { maxItems: MAX_ITEMS } });
    expect((await expectGapFree(id)).positions).toHaveLength(MAX_ITEMS);
  });

  it('keeps positions 0..n-1 and every item under concurrent inserts, removals and reorders', async () => {
    const owner = await createUser(t);
    const authors = [owner, await createUser(t), await createUser(t), await createUser(t)];
    const id = await createCollection(owner);
    const seeds = [await post(owner), await post(owner)];
    for (const s of seeds) await add(owner, id, s);
    const posts: string[] = [];
    for (let i = 0; i < 20; i++) posts.push(await post(authors[i % authors.length]!));

    // 20 parallel inserts at the end, the front and in the middle
    const results = await Promise.all(
      posts.map((p, i) =>
        call(owner, 'POST', `/collections/${id}/items`, {
          postId: p,
          ...(i % 3 === 0 ? {} : { position: i % 3 === 1 ? 0 : 1 }),
        }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(posts.map(() => 201));
    const afterInserts = await expectGapFree(id, [...seeds, ...posts]);

    // a reorder racing with inserts and a removal: one order wins, nothing is lost or duplicated
    const reversed = [...afterInserts.postIds].reverse();
    const late = [await post(owner), await post(authors[1]!), await post(authors[2]!)];
    const removed = afterInserts.postIds[5]!;
    const [reorder, ...writes] = await Promise.all([
      call(owner, 'PUT', `/collections/${id}/items`, { postIds: reversed }),
      ...late.map((p, i) => call(owner, 'POST', `/collections/${id}/items`, { postId: p, position: i })),
      call(owner, 'DELETE', `/collections/${id}/items/${removed}`),
    ]);
    expect(writes.map((w) => w.statusCode)).toEqual([201, 201, 201, 204]);
    expect([204, 409]).toContain(reorder!.statusCode);
    const expected = [...seeds, ...posts, ...late].filter((p) => p !== removed);
    const final = await expectGapFree(id, expected);
    if (reorder!.statusCode === 204) {
      // the reordered items keep the new relative order (inserts and removals do not reorder)
      const kept = final.postIds.filter((p) => reversed.includes(p));
      expect(kept).toEqual(reversed.filter((p) => p !== removed));
    } else {
      expect(reorder!.json().error.code).toBe('ORDER_MISMATCH');
    }
    expect((await itemsOf(owner, id, 7)).map((i) => i.postId)).toEqual(final.postIds);

    // the same post added twice at once: exactly one wins
    const once = await post(owner);
    const twice = await Promise.all(
      [0, 1].map(() => call(owner, 'POST', `/collections/${id}/items`, { postId: once })),
    );
    expect(twice.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    await expectGapFree(id, [...expected, once]);
  });

  it('answers bad input with a 4xx and its error body, writing nothing', async () => {
    const [owner, stranger] = [await createUser(t), await createUser(t)];
    const id = await createCollection(owner);
    const [p1, p2] = [await post(owner), await post(owner)];
    await add(owner, id, p1);
    await add(owner, id, p2);
    const before = await stored(id);
    const otherList = Buffer.from(JSON.stringify(['friends', 'x'])).toString('base64url');
    const negative = Buffer.from(JSON.stringify([`collection:${id}`, -3])).toString('base64url');
    const wrongType = Buffer.from(JSON.stringify([`collection:${id}`, '1'])).toString('base64url');
    const notUuid = Buffer.from(JSON.stringify([`user-collections:${owner.id}`, 'zzz'])).toString(
      'base64url',
    );

    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/collections', { title: 'x', extra: 1 }, 400, 'VALIDATION_FAILED'],
      ['POST', '/collections', { title: 'x'.repeat(121) }, 400, 'VALIDATION_FAILED'],
      ['POST', '/collections', { title: '' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/collections', { title: ' \u200b\u202e ' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/collections', { title: 'ok', description: 'd'.repeat(2001) }, 400, 'VALIDATION_FAILED'],
      ['POST', '/collections', { title: 'ok', visibility: 'everyone' }, 400, 'VALIDATION_FAILED'],
      ['POST', '/collections', { description: 'no title' }, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/collections/${id}`, {}, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/collections/${id}`, { title: 'x'.repeat(121) }, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/collections/${id}`, { owner: stranger.id }, 400, 'VALIDATION_FAILED'],
      ['GET', '/collections/not-a-uuid', undefined, 400, 'VALIDATION_FAILED'],
      ['DELETE', '/collections/123', undefined, 400, 'VALIDATION_FAILED'],
      ['POST', `/collections/${id}/items`, { postId: 'nope' }, 400, 'VALIDATION_FAILED'],
      ['POST', `/collections/${id}/items`, { postId: p1, position: -1 }, 400, 'VALIDATION_FAILED'],
      ['POST', `/collections/${id}/items`, { postId: p1, position: 1.5 }, 400, 'VALIDATION_FAILED'],
      ['POST', `/collections/${id}/items`, { postId: p1, at: 0 }, 400, 'VALIDATION_FAILED'],
      ['POST', `/collections/${id}/items`, { postId: p1 }, 409, 'ALREADY_IN_COLLECTION'],
      ['DELETE', `/collections/${id}/items/bad`, undefined, 400, 'VALIDATION_FAILED'],
      ['PUT', `/collections/${id}/items`, { postIds: [p1] }, 409, 'ORDER_MISMATCH'],
      ['PUT', `/collections/${id}/items`, { postIds: [p2, p1, stranger.id] }, 409, 'ORDER_MISMATCH'],
      ['PUT', `/collections/${id}/items`, { postIds: [p2, stranger.id] }, 409, 'ORDER_MISMATCH'],
      ['PUT', `/collections/${id}/items`, { postIds: [p2, p2] }, 400, 'VALIDATION_FAILED'],
      ['PUT', `/collections/${id}/items`, { postIds: [p2, 'x'] }, 400, 'VALIDATION_FAILED'],
      ['PUT', `/collections/${id}/items`, { order: [p2, p1] }, 400, 'VALIDATION_FAILED'],
      ['PUT', `/collections/${id}/items`, { postIds: [p2, p1], extra: true }, 400, 'VALIDATION_FAILED'],
      ['GET', `/collections/${id}?cursor=garbage!`, undefined, 400, 'VALIDATION_FAILED'],
      ['GET', `/collections/${id}?cursor=Z2FyYmFnZQ`, undefined, 400, 'INVALID_CURSOR'],
      ['GET', `/collections/${id}?cursor=${otherList}`, undefined, 400, 'INVALID_CURSOR'],
      ['GET', `/collections/${id}?cursor=${negative}`, undefined, 400, 'INVALID_CURSOR'],
      ['GET', `/collections/${id}?cursor=${wrongType}`, undefined, 400, 'INVALID_CURSOR'],
      ['GET', `/collections/${id}?limit=51`, undefined, 400, 'VALIDATION_FAILED'],
      ['GET', `/users/${owner.username}/collections?cursor=Z2FyYmFnZQ`, undefined, 400, 'INVALID_CURSOR'],
      ['GET', `/users/${owner.username}/collections?cursor=${notUuid}`, undefined, 400, 'INVALID_CURSOR'],
      ['GET', `/users/${owner.username}/collections?limit=0`, undefined, 400, 'VALIDATION_FAILED'],
      ['GET', '/users/no_such_user_here/collections', undefined, 404, 'NOT_FOUND'],
      ['GET', `/collections/${stranger.id}`, undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, url, body, status, code] of cases) {
      const res = await call(owner, method, url, body);
      const label = `${method} ${url} ${JSON.stringify(body)?.slice(0, 80)}`;
      expect(res.statusCode, label).toBe(status);
      expect(res.json().error, label).toMatchObject({ code, message: expect.any(String) });
      expect(res.json().error.requestId, label).toBeTruthy();
    }
    const mismatch = await call(owner, 'PUT', `/collections/${id}/items`, { postIds: [p1] });
    expect(mismatch.json().error.details).toEqual({ itemCount: 2 });

    // someone else's collection, anonymous callers
    const hidden = await createCollection(owner, { visibility: 'private' });
    expect((await call(stranger, 'GET', `/collections/${hidden}`)).statusCode).toBe(404);
    expect((await call(undefined, 'GET', `/collections/${id}`)).statusCode).toBe(401);
    expect((await call(undefined, 'POST', '/collections', { title: 'x' })).statusCode).toBe(401);

    // nothing was half-written
    expect(await stored(id)).toEqual(before);
    const list = await call(owner, 'GET', `/users/${owner.username}/collections`);
    expect(list.json().items.map((c: { id: string }) => c.id)).toEqual([hidden, id]);
  });

  it('closes the gap when a post is erased for good, also while the collection is being edited', async () => {
    const [owner, author] = [await createUser(t), await createUser(t)];
    const [id, other] = [await createCollection(owner), await createCollection(owner)];
    const mine = [await post(owner), await post(owner), await post(owner)];
    const theirs = [await post(author), await post(author)];
    for (const p of [mine[0]!, theirs[0]!, mine[1]!, theirs[1]!, mine[2]!]) await add(owner, id, p);
    await add(owner, other, theirs[1]!);
    await add(owner, other, mine[0]!);

    // one post erased (as an admin tool or erasure job would) while the owner reorders
    const order = [mine[2]!, theirs[1]!, mine[1]!, theirs[0]!, mine[0]!];
    const [reorder] = await Promise.all([
      call(owner, 'PUT', `/collections/${id}/items`, { postIds: order }),
      db.deleteFrom('posts').where('id', '=', theirs[0]!).execute(),
    ]);
    expect([204, 409]).toContain(reorder.statusCode);
    const left = await expectGapFree(id, [mine[0]!, mine[1]!, mine[2]!, theirs[1]!]);
    if (reorder.statusCode === 204) expect(left.postIds).toEqual(order.filter((p) => p !== theirs[0]));

    // the author's account erased: every post of theirs leaves every collection
    await db.deleteFrom('users').where('id', '=', author.id).execute();
    await expectGapFree(id, mine);
    expect((await expectGapFree(other)).postIds).toEqual([mine[0]]);
    expect((await call(owner, 'GET', `/collections/${id}`)).json().itemCount).toBe(3);
  });

  it('keeps item_count equal to the items of every collection', async () => {
    const rows = await sql<{ bad: number }>`
      SELECT count(*)::int AS bad FROM collections c
       WHERE c.item_count <> (SELECT count(*) FROM collection_items i WHERE i.collection_id = c.id)
          OR EXISTS (SELECT 1 FROM collection_items i WHERE i.collection_id = c.id AND i.position >= c.item_count)`.execute(
      db,
    );
    expect(rows.rows[0]!.bad).toBe(0);
  });
});
