import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost, get } from './helpers/social.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const { app } = t;

const notifications = async (user: TestUser) => (await get(t, user, '/api/v1/notifications')).json().items;
const unread = async (user: TestUser) =>
  (await get(t, user, '/api/v1/notifications/unread-count')).json().count;

describe('notifications', () => {
  it('notifies friend requests and acceptance', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    await runJobs(t);
    expect((await notifications(b)).map((n: { kind: string }) => n.kind)).toEqual(['friend_request']);
    const [accepted] = await notifications(a);
    expect(accepted).toMatchObject({
      kind: 'friend_accepted',
      actors: [{ username: b.username }],
      actorCount: 1,
      read: false,
    });
  });

  it('groups reactions on one post: "A and 2 others"', async () => {
    const [author, ...fans] = [
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
    ];
    const post = await createPost(t, author, 'like me', 'public');
    for (const fan of fans) {
      await app.inject({
        method: 'PUT',
        url: `/api/v1/posts/${post.id}/reactions/like`,
        headers: fan.headers,
      });
    }
    // the same fan changing kind is not a new actor
    await app.inject({
      method: 'PUT',
      url: `/api/v1/posts/${post.id}/reactions/love`,
      headers: fans[0]!.headers,
    });
    await runJobs(t);
    const list = await notifications(author);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ kind: 'reaction', subjectId: post.id, actorCount: 3 });
    expect(list[0].actors).toHaveLength(3);
    expect(await unread(author)).toBe(1);
  });

  it('notifies comments and mentions, never oneself, never across a block', async () => {
    const [author, friend, blocked] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, author, friend);
    await runJobs(t);
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${blocked.username}`, headers: author.headers });
    const before = (await notifications(author)).length;
    const post = await createPost(
      t,
      author,
      `hey @${friend.username} and @${blocked.username} and @${author.username}`,
      'public',
    );
    await app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/comments`,
      headers: author.headers,
      payload: { text: 'me' },
    });
    await app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/comments`,
      headers: friend.headers,
      payload: { text: 'hi' },
    });
    await runJobs(t);
    expect((await notifications(friend)).map((n: { kind: string }) => n.kind)).toContain('mention');
    expect(await notifications(blocked)).toEqual([]);
    const mine = (await notifications(author)).slice(0, (await notifications(author)).length - before);
    expect(mine.map((n: { kind: string }) => n.kind)).toEqual(['comment']);
  });

  it('marks read up to a notification and pages by cursor', async () => {
    const user = await createUser(t);
    for (let i = 0; i < 3; i++) {
      const other = await createUser(t);
      await app.inject({
        method: 'POST',
        url: '/api/v1/friend-requests',
        headers: other.headers,
        payload: { username: user.username },
      });
    }
    await runJobs(t);
    expect(await unread(user)).toBe(3);
    const first = (await get(t, user, '/api/v1/notifications?limit=2')).json();
    expect(first.items).toHaveLength(2);
    const restRes = await get(t, user, `/api/v1/notifications?limit=2&cursor=${first.nextCursor}`);
    expect(restRes.statusCode, restRes.body).toBe(200);
    const rest = restRes.json();
    expect(rest.items).toHaveLength(1);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/notifications/read',
      headers: user.headers,
      payload: { upTo: first.items[1].id },
    });
    expect(res.json()).toEqual({ marked: 2, unreadCount: 1 });
    const someoneElses = await app.inject({
      method: 'POST',
      url: '/api/v1/notifications/read',
      headers: (await createUser(t)).headers,
      payload: { upTo: first.items[0].id },
    });
    expect(someoneElses.statusCode).toBe(404);
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/notifications/read',
      headers: user.headers,
      payload: { upTo: 'x' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('publishes each new notification on the broker for live delivery', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const received = new Promise<{ type: string; unreadCount: number }>((resolve) => {
      void t.platform.broker.subscribe(`user.${b.id}`, (message) => resolve(message as never));
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/friend-requests',
      headers: a.headers,
      payload: { username: b.username },
    });
    await runJobs(t);
    expect(await received).toMatchObject({ type: 'notification.new', unreadCount: 1 });
  });
});
