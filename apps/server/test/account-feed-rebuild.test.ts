import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, login, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost } from './helpers/social.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const { app } = t;
const db = t.platform.db.primary;

/** Makes the user look absent for `days` days. */
const absentFor = (user: TestUser, days: number) =>
  sql`UPDATE users SET last_active_at = now() - make_interval(days => ${days}) WHERE id = ${user.id}`.execute(
    db,
  );

const rebuildJobs = async (user: TestUser) =>
  (
    await sql<{ id: string }>`
      SELECT id FROM graphile_worker.jobs
       WHERE task_identifier = 'feed.rebuild' AND key = ${`feed.rebuild:${user.id}`}`.execute(db)
  ).rows;

const feedTexts = async (user: TestUser, accessToken = user.accessToken) => {
  const res = await app.inject({
    method: 'GET',
    url: '/api/v1/feed',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return res.json().items.map((p: { text: string }) => p.text);
};

describe('feed rebuild when a user comes back', () => {
  it('a user back after more than FEED_INACTIVE_DAYS gets the posts fan-out skipped', async () => {
    const [away, friend] = [await createUser(t), await createUser(t)];
    await befriend(t, away, friend);
    await runJobs(t);
    await absentFor(away, 15);
    await createPost(t, friend, 'while you were away', 'friends');
    await runJobs(t);
    // fan-out skipped the inactive reader
    expect(await feedTexts(away)).toEqual([]);

    const tokens = await login(app, away.username, away.password);
    expect(await rebuildJobs(away)).toHaveLength(1);
    const { last_active_at } = await db
      .selectFrom('users')
      .select('last_active_at')
      .where('id', '=', away.id)
      .executeTakeFirstOrThrow();
    expect(Date.now() - last_active_at.getTime()).toBeLessThan(60_000);
    await runJobs(t);
    expect(await feedTexts(away, tokens.accessToken)).toEqual(['while you were away']);
    // and the next post reaches them by fan-out again
    await createPost(t, friend, 'welcome back', 'friends');
    await runJobs(t);
    expect(await feedTexts(away, tokens.accessToken)).toEqual(['welcome back', 'while you were away']);
  });

  it('an active user signing in or refreshing enqueues no rebuild', async () => {
    const user = await createUser(t);
    await absentFor(user, 13);
    await login(app, user.username, user.password);
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(await rebuildJobs(user)).toEqual([]);
  });

  it('a refresh after a long absence counts as coming back, once', async () => {
    const [away, friend] = [await createUser(t), await createUser(t)];
    await befriend(t, away, friend);
    await runJobs(t);
    await absentFor(away, 20);
    await createPost(t, friend, 'missed', 'public');
    await runJobs(t);
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: away.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    // a second sign-in right after is active again: still one job
    await login(app, away.username, away.password);
    expect(await rebuildJobs(away)).toHaveLength(1);
    await runJobs(t);
    expect(await feedTexts(away, refreshed.json().accessToken)).toEqual(['missed']);
  });
});
