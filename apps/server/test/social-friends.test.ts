import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend } from './helpers/social.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const { app } = t;

const send = (from: TestUser, username: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/friend-requests',
    headers: from.headers,
    payload: { username },
  });

const friendsOf = async (viewer: TestUser, username: string) => {
  const res = await app.inject({
    method: 'GET',
    url: `/api/v1/users/${username}/friends`,
    headers: viewer.headers,
  });
  return res;
};

describe('friend requests and friendships', () => {
  it('sends, lists, accepts; both see each other as friends', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const sent = await send(a, b.username);
    expect(sent.statusCode).toBe(201);
    expect(sent.json()).toMatchObject({ status: 'pending', request: { user: { username: b.username } } });

    const incoming = await app.inject({
      method: 'GET',
      url: '/api/v1/friend-requests?direction=incoming',
      headers: b.headers,
    });
    expect(incoming.json().items.map((i: { user: { username: string } }) => i.user.username)).toEqual([
      a.username,
    ]);
    const outgoing = await app.inject({
      method: 'GET',
      url: '/api/v1/friend-requests?direction=outgoing',
      headers: a.headers,
    });
    expect(outgoing.json().items).toHaveLength(1);

    const accepted = await app.inject({
      method: 'POST',
      url: `/api/v1/friend-requests/${sent.json().request.id}/accept`,
      headers: b.headers,
    });
    expect(accepted.statusCode).toBe(204);
    expect(
      (await friendsOf(a, a.username)).json().items.map((f: { username: string }) => f.username),
    ).toEqual([b.username]);
    expect(
      (await friendsOf(a, b.username)).json().items.map((f: { username: string }) => f.username),
    ).toEqual([a.username]);
    expect((await send(a, b.username)).json().error.code).toBe('ALREADY_FRIENDS');
  });

  it('turns crossing requests into a friendship, also when sent at the same moment', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await send(a, b.username);
    const crossing = await send(b, a.username);
    expect(crossing.statusCode).toBe(200);
    expect(crossing.json().status).toBe('accepted');

    const [c, d] = [await createUser(t), await createUser(t)];
    const both = await Promise.all([send(c, d.username), send(d, c.username)]);
    expect(both.map((r) => r.json().status).sort()).toEqual(['accepted', 'pending']);
    expect((await friendsOf(c, c.username)).json().items).toHaveLength(1);
    const pending = await app.inject({
      method: 'GET',
      url: '/api/v1/friend-requests?direction=incoming',
      headers: c.headers,
    });
    expect(pending.json().items).toHaveLength(0);
  });

  it('declines and cancels; another user cannot act on my request', async () => {
    const [a, b, c] = [await createUser(t), await createUser(t), await createUser(t)];
    const id = (await send(a, b.username)).json().request.id;
    for (const [method, url] of [
      ['POST', `/api/v1/friend-requests/${id}/accept`],
      ['POST', `/api/v1/friend-requests/${id}/decline`],
      ['DELETE', `/api/v1/friend-requests/${id}`],
    ] as const) {
      expect((await app.inject({ method, url, headers: c.headers })).statusCode).toBe(404);
    }
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/friend-requests/${id}`, headers: a.headers }))
        .statusCode,
    ).toBe(204);
    const again = (await send(a, b.username)).json().request.id;
    expect(
      (
        await app.inject({
          method: 'POST',
          url: `/api/v1/friend-requests/${again}/decline`,
          headers: b.headers,
        })
      ).statusCode,
    ).toBe(204);
    expect((await friendsOf(a, a.username)).json().items).toHaveLength(0);
  });

  it('unfriends', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/friends/${b.username}`, headers: a.headers }))
        .statusCode,
    ).toBe(204);
    expect((await friendsOf(b, b.username)).json().items).toHaveLength(0);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/friends/${b.username}`, headers: a.headers }))
        .statusCode,
    ).toBe(404);
  });

  it('blocking ends the friendship and pending requests and hides each side from the other', async () => {
    const [a, b, c] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    await send(c, a.username);
    expect(
      (await app.inject({ method: 'PUT', url: `/api/v1/blocks/${b.username}`, headers: a.headers }))
        .statusCode,
    ).toBe(204);
    expect(
      (await app.inject({ method: 'PUT', url: `/api/v1/blocks/${c.username}`, headers: a.headers }))
        .statusCode,
    ).toBe(204);
    expect((await friendsOf(a, a.username)).json().items).toHaveLength(0);
    const incoming = await app.inject({ method: 'GET', url: '/api/v1/friend-requests', headers: a.headers });
    expect(incoming.json().items).toHaveLength(0);
    // hidden both ways: friend list, requests
    expect((await friendsOf(b, a.username)).statusCode).toBe(404);
    expect((await friendsOf(a, b.username)).statusCode).toBe(404);
    expect((await send(b, a.username)).statusCode).toBe(404);
    expect((await send(a, b.username)).statusCode).toBe(404);
    // unblock restores visibility, not the friendship
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/blocks/${b.username}`, headers: a.headers }))
        .statusCode,
    ).toBe(204);
    expect((await friendsOf(b, a.username)).statusCode).toBe(200);
    await runJobs(t);
  });

  it('gives specific codes for a request to oneself or to a friend', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const self = await send(a, a.username);
    expect(self.statusCode).toBe(400);
    expect(self.json().error.code).toBe('SELF_FRIEND_REQUEST');
    await befriend(t, a, b);
    const again = await send(a, b.username);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_FRIENDS');
    const selfBlock = await app.inject({
      method: 'PUT',
      url: `/api/v1/blocks/${a.username}`,
      headers: a.headers,
    });
    expect(selfBlock.json().error.code).toBe('SELF_BLOCK');
  });

  it('settles a concurrent accept and cancel of one request on one outcome, everywhere', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = [await createUser(t), await createUser(t)];
      const id = (await send(a, b.username)).json().request.id;
      const [accept, cancel] = await Promise.all([
        app.inject({ method: 'POST', url: `/api/v1/friend-requests/${id}/accept`, headers: b.headers }),
        app.inject({ method: 'DELETE', url: `/api/v1/friend-requests/${id}`, headers: a.headers }),
      ]);
      // exactly one of them happened; the other found the request gone
      expect([accept.statusCode, cancel.statusCode].sort()).toEqual([204, 404]);
      const friendsA = (await friendsOf(a, a.username)).json().items.length;
      const friendsB = (await friendsOf(b, b.username)).json().items.length;
      expect([friendsA, friendsB]).toEqual(accept.statusCode === 204 ? [1, 1] : [0, 0]);
      const pending = await app.inject({ method: 'GET', url: '/api/v1/friend-requests', headers: b.headers });
      expect(pending.json().items).toHaveLength(0);
    }
  });

  it('answers hostile input with 4xx', async () => {
    const a = await createUser(t);
    const cases = [
      { method: 'POST', url: '/api/v1/friend-requests', payload: { username: a.username } }, // self
      { method: 'POST', url: '/api/v1/friend-requests', payload: { username: 'x'.repeat(31) } },
      { method: 'POST', url: '/api/v1/friend-requests', payload: { username: 'ok_name', extra: 1 } },
      { method: 'POST', url: '/api/v1/friend-requests/not-a-uuid/accept' },
      { method: 'GET', url: '/api/v1/friend-requests?direction=sideways' },
      { method: 'GET', url: `/api/v1/users/${a.username}/friends?cursor=garbage!` },
      { method: 'GET', url: `/api/v1/users/${a.username}/friends?cursor=Z2FyYmFnZQ` },
      { method: 'PUT', url: `/api/v1/blocks/${a.username}` },
    ] as const;
    for (const c of cases) {
      const res = await app.inject({ ...c, headers: a.headers });
      expect(res.statusCode, `${c.method} ${c.url}`).toBe(400);
      expect(res.json().error.requestId).toBeTruthy();
    }
    expect((await send(a, 'nobody_here')).statusCode).toBe(404);
    const anon = await app.inject({
      method: 'POST',
      url: '/api/v1/friend-requests',
      payload: { username: 'x_y' },
    });
    expect(anon.statusCode).toBe(401);
  });
});
