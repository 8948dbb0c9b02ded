import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type RawBuilder, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost, get } from './helpers/social.ts';
import { png, uploadReady } from './media-helpers.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const t0 = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, ACCOUNT_RETENTION_DAYS: '0' });
const { app } = t;
const db = t.platform.db.primary;
const DAY = 86_400_000;

const deleteMe = (user: TestUser, payload: unknown) =>
  app.inject({ method: 'DELETE', url: '/api/v1/me', headers: user.headers, payload: payload as object });

/** The account's queued erase job (keyed by user), as graphile-worker holds it. */
const eraseJobs = async (userId: string) =>
  (
    await sql<{ id: string; run_at: Date }>`
      SELECT id, run_at FROM graphile_worker.jobs
       WHERE task_identifier = 'account.erase' AND key = ${`account.erase:${userId}`}`.execute(db)
  ).rows;

/** Makes the erasure due now: moves the account's erase_after and its job's run_at to the past. */
async function makeErasureDue(userId: string) {
  await db
    .updateTable('users')
    .set({ erase_after: sql<Date>`now() - interval '1 second'` })
    .where('id', '=', userId)
    .execute();
  const ids = (await eraseJobs(userId)).map((j) => j.id);
  await sql`SELECT graphile_worker.reschedule_jobs(${ids}::bigint[], run_at => now())`.execute(db);
}

const names = (res: { json(): { items: { username?: string; author?: { username: string } }[] } }) =>
  res.json().items.map((i) => i.username ?? i.author?.username);

describe('DELETE /me', () => {
  it('refuses a wrong or missing password, unknown fields and anonymous callers', async () => {
    const user = await createUser(t);
    const wrong = await deleteMe(user, { password: 'not-my-password' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('WRONG_PASSWORD');
    for (const payload of [
      {},
      { password: '' },
      { password: user.password, confirm: true },
      { password: 1 },
    ]) {
      const res = await deleteMe(user, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const anonymous = await app.inject({ method: 'DELETE', url: '/api/v1/me', payload: { password: 'x' } });
    expect(anonymous.statusCode).toBe(401);
    // still there
    expect((await get(t, user, '/api/v1/me')).statusCode).toBe(200);
  });

  it('deactivates at once: every session revoked, sign-in refused, audited, erasure scheduled', async () => {
    const user = await createUser(t);
    const second = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: user.username, password: user.password },
    });
    const res = await deleteMe(user, { password: user.password });
    expect(res.statusCode).toBe(202);
    const eraseAfter = new Date(res.json().eraseAfter).getTime();
    expect(res.json().status).toBe('deactivated');
    expect(Math.abs(eraseAfter - (Date.now() + 30 * DAY))).toBeLessThan(DAY);

    expect((await get(t, user, '/api/v1/me')).statusCode).toBe(401);
    const otherSession = await app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${second.json().accessToken}` },
    });
    expect(otherSession.statusCode).toBe(401);
    const refresh = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: user.username, password: user.password },
    });
    expect(login.statusCode).toBe(401);
    expect(login.json().error.code).toBe('INVALID_CREDENTIALS');

    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'actor_id', 'details'])
      .where('target_id', '=', user.id)
      .where('action', '=', 'account.delete')
      .execute();
    expect(audit).toEqual([
      {
        action: 'account.delete',
        actor_id: user.id,
        details: expect.objectContaining({ revokedSessions: 2 }),
      },
    ]);
    const jobs = await eraseJobs(user.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.run_at.getTime()).toBe(eraseAfter);
    // the username stays taken until erasure
    const signup = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { username: user.username, email: `x${user.email}`, password: user.password },
    });
    expect(signup.json().error.code).toBe('USERNAME_TAKEN');
  });

  it("makes the account vanish from others' profile, search, friends lists, feeds, posts and comments", async () => {
    const [gone, friend, stranger] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, gone, friend);
    await runJobs(t);
    const publicPost = await createPost(t, gone, `vanishing #gonetag${gone.id.slice(-6)}`, 'public');
    const friendsPost = await createPost(t, gone, 'for friends', 'friends');
    const friendPost = await createPost(t, friend, 'my own', 'public');
    await app.inject({
      method: 'POST',
      url: `/api/v1/posts/${friendPost.id}/comments`,
      headers: gone.headers,
      payload: { text: 'a comment' },
    });
    await app.inject({
      method: 'PUT',
      url: `/api/v1/posts/${friendPost.id}/reactions/like`,
      headers: gone.headers,
    });
    await runJobs(t);
    const tag = `/api/v1/tags/gonetag${gone.id.slice(-6)}/posts`;
    const comments = `/api/v1/posts/${friendPost.id}/comments`;
    // before: visible everywhere
    expect((await get(t, friend, `/api/v1/users/${gone.username}`)).statusCode).toBe(200);
    expect(names(await get(t, stranger, `/api/v1/users?query=${gone.username}`))).toEqual([gone.username]);
    expect(names(await get(t, stranger, `/api/v1/users/${friend.username}/friends`))).toEqual([
      gone.username,
    ]);
    expect(names(await get(t, friend, '/api/v1/feed'))).toContain(gone.username);
    expect(names(await get(t, stranger, tag))).toEqual([gone.username]);
    expect((await get(t, friend, comments)).json().items).toHaveLength(1);
    const notifications = await get(t, friend, '/api/v1/notifications');
    expect(JSON.stringify(notifications.json())).toContain(gone.username);

    expect((await deleteMe(gone, { password: gone.password })).statusCode).toBe(202);

    for (const viewer of [friend, stranger]) {
      expect((await get(t, viewer, `/api/v1/users/${gone.username}`)).statusCode).toBe(404);
      expect(names(await get(t, viewer, `/api/v1/users?query=${gone.username}`))).toEqual([]);
      expect(names(await get(t, viewer, `/api/v1/users/${friend.username}/friends`))).toEqual([]);
      expect((await get(t, viewer, `/api/v1/users/${gone.username}/friends`)).statusCode).toBe(404);
      expect((await get(t, viewer, `/api/v1/users/${gone.username}/posts`)).statusCode).toBe(404);
      expect((await get(t, viewer, `/api/v1/posts/${publicPost.id}`)).statusCode).toBe(404);
      expect(names(await get(t, viewer, tag))).toEqual([]);
      expect((await get(t, viewer, comments)).json().items).toEqual([]);
    }
    expect((await get(t, friend, `/api/v1/posts/${friendsPost.id}`)).statusCode).toBe(404);
    // the cached first feed page was dropped: the friend's feed shows only their own post
    expect(names(await get(t, friend, '/api/v1/feed'))).toEqual([friend.username]);
    expect(JSON.stringify((await get(t, friend, '/api/v1/notifications')).json())).not.toContain(
      gone.username,
    );
    // a new post by the friend is not fanned out to the deleted account
    const after = await createPost(t, friend, 'after', 'public');
    await runJobs(t);
    const entries = await db
      .selectFrom('feed_entries')
      .select('post_id')
      .where('user_id', '=', gone.id)
      .execute();
    expect(entries.map((e) => e.post_id)).toContain(friendPost.id);
    expect(entries.map((e) => e.post_id)).not.toContain(after.id);
  });

  it('erases the data when the retention period is over, keeping the audit log', async () => {
    const [gone, friend] = [await createUser(t), await createUser(t)];
    await befriend(t, gone, friend);
    await runJobs(t);
    const own = await createPost(t, gone, 'mine', 'public');
    const friendPost = await createPost(t, friend, 'theirs', 'public');
    await app.inject({
      method: 'POST',
      url: `/api/v1/posts/${friendPost.id}/comments`,
      headers: gone.headers,
      payload: { text: 'bye' },
    });
    await app.inject({
      method: 'PUT',
      url: `/api/v1/posts/${friendPost.id}/reactions/love`,
      headers: gone.headers,
    });
    const medium = await uploadReady(t, gone, await png());
    const mediaFiles = async () =>
      (await readdir(join(t.platform.config.dataDir, 'media'), { recursive: true })).filter((f) =>
        f.toString().includes('.'),
      );
    expect((await mediaFiles()).length).toBeGreaterThan(0);
    await runJobs(t);
    expect((await deleteMe(gone, { password: gone.password })).statusCode).toBe(202);

    // not due yet: running the queue leaves it alone
    await runJobs(t);
    expect(
      await db.selectFrom('users').select('id').where('id', '=', gone.id).executeTakeFirst(),
    ).toBeDefined();

    await makeErasureDue(gone.id);
    await runJobs(t);

    const count = async (query: RawBuilder<{ n: number }>) => (await query.execute(db)).rows[0]!.n;
    expect(await count(sql`SELECT count(*)::int AS n FROM users WHERE id = ${gone.id}`)).toBe(0);
    // stored media files go too, not only their rows
    expect(await count(sql`SELECT count(*)::int AS n FROM media WHERE id = ${medium.id}`)).toBe(0);
    expect(await mediaFiles()).toEqual([]);
    expect(await count(sql`SELECT count(*)::int AS n FROM posts WHERE id = ${own.id}`)).toBe(0);
    expect(await count(sql`SELECT count(*)::int AS n FROM comments WHERE author_id = ${gone.id}`)).toBe(0);
    expect(await count(sql`SELECT count(*)::int AS n FROM reactions WHERE user_id = ${gone.id}`)).toBe(0);
    expect(await count(sql`SELECT count(*)::int AS n FROM friendships WHERE friend_id = ${gone.id}`)).toBe(0);
    expect(await count(sql`SELECT count(*)::int AS n FROM sessions WHERE user_id = ${gone.id}`)).toBe(0);
    expect(await count(sql`SELECT count(*)::int AS n FROM feed_entries WHERE author_id = ${gone.id}`)).toBe(
      0,
    );
    // the counters on the friend's post follow (triggers on the cascade)
    const post = (await get(t, friend, `/api/v1/posts/${friendPost.id}`)).json();
    expect(post.counts).toMatchObject({ comments: 0, reactions: { love: 0 } });
    // the audit log keeps its entries (ids only) and records the erasure
    const actions = await db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', gone.id)
      .orderBy('id')
      .execute();
    expect(actions.map((a) => a.action)).toEqual(['auth.signup', 'account.delete', 'account.erase']);
    // the username is free again
    expect((await createUser(t, { username: gone.username })).username).toBe(gone.username);
  });

  it('an erase job that runs early is rescheduled to the erasure time', async () => {
    const user = await createUser(t);
    const res = await deleteMe(user, { password: user.password });
    const ids = (await eraseJobs(user.id)).map((j) => j.id);
    await sql`SELECT graphile_worker.reschedule_jobs(${ids}::bigint[], run_at => now())`.execute(db);
    await runJobs(t);
    expect(
      await db.selectFrom('users').select('id').where('id', '=', user.id).executeTakeFirst(),
    ).toBeDefined();
    const jobs = await eraseJobs(user.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.run_at.toISOString()).toBe(res.json().eraseAfter);
  });
});

describe('ACCOUNT_RETENTION_DAYS=0', () => {
  it('erases at the next run of the queue', async () => {
    const user = await createUser(t0);
    const res = await t0.app.inject({
      method: 'DELETE',
      url: '/api/v1/me',
      headers: user.headers,
      payload: { password: user.password },
    });
    expect(res.statusCode).toBe(202);
    await runJobs(t0);
    const row = await t0.platform.db.primary
      .selectFrom('users')
      .select('id')
      .where('id', '=', user.id)
      .executeTakeFirst();
    expect(row).toBeUndefined();
  });
});
