import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { platformHealth, startRedisServer, waitForHealth } from './helpers/redis-server.ts';
import { befriend, createPost, get } from './helpers/social.ts';

/**
 * The home feed's first page is cached in Redis; Postgres holds the feed. Killing Redis (SIGKILL)
 * must cost nothing but the cache: pages come from Postgres, new posts still arrive, no 5xx, and
 * the cache is used again once Redis is back.
 */
const redis = await startRedisServer();
const t = await buildTestApp({ REDIS_URL: redis.url, ...GENEROUS_AUTH_LIMITS });

const feedKey = (userId: string) => `kith:cache:feed:v1:${userId}:first`;

/** Whether the page is in Redis, asked on a connection of the test's own. */
async function cachedInRedis(userId: string): Promise<boolean> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 0, lazyConnect: true });
  try {
    await client.connect();
    return (await client.exists(feedKey(userId))) === 1;
  } finally {
    client.disconnect();
  }
}

async function feedTexts(user: TestUser): Promise<string[]> {
  const res = await get(t, user, '/api/v1/feed');
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items.map((p: { text: string }) => p.text);
}

/** Redis running and the app using it: each test starts from there, whatever ran before it. */
async function redisUp(): Promise<void> {
  if (!redis.running()) await redis.restart();
  await waitForHealth(platformHealth(t.platform), true);
}

/** Redis killed (SIGKILL) and the app aware of it. */
async function redisDown(): Promise<void> {
  await redis.kill();
  await waitForHealth(platformHealth(t.platform), false);
}

/** A reader with one friend who has posted 'one', fanned out and read once (so cached). */
async function readerWithFeed(): Promise<{ me: TestUser; friend: TestUser }> {
  const [me, friend] = [await createUser(t), await createUser(t)];
  await befriend(t, me, friend);
  await createPost(t, friend, 'one');
  await runJobs(t);
  expect(await feedTexts(me)).toEqual(['one']);
  return { me, friend };
}

describe('home feed while Redis is killed and restarted', () => {
  it('caches the first page in Redis', async () => {
    await redisUp();
    const { me, friend } = await readerWithFeed();
    expect(t.platform.redisHealth()).toBe('up');
    expect(await cachedInRedis(me.id)).toBe(true);
    // a write behind the service's back is not seen: the page really comes from the cache
    await sql`UPDATE posts SET text = 'one, edited' WHERE author_id = ${friend.id}`.execute(
      t.platform.db.primary,
    );
    expect(await feedTexts(me)).toEqual(['one']);
  });

  it('serves the feed from Postgres once Redis is gone, with new posts after fan-out', async () => {
    await redisUp();
    const { me, friend } = await readerWithFeed();
    await sql`UPDATE posts SET text = 'one, edited' WHERE author_id = ${friend.id}`.execute(
      t.platform.db.primary,
    );
    await redisDown();

    // the cached copy vanished with Redis: the page is read from Postgres, current
    expect(await feedTexts(me)).toEqual(['one, edited']);
    await createPost(t, friend, 'two');
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['two', 'one, edited']);
    // pages cached in-process during the outage are invalidated by fan-out too
    await createPost(t, friend, 'three');
    await runJobs(t);
    expect(await feedTexts(me)).toEqual(['three', 'two', 'one, edited']);
    // and the author sees their own post at once, without a job
    await createPost(t, me, 'mine');
    expect(await feedTexts(me)).toEqual(['mine', 'three', 'two', 'one, edited']);

    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => (await get(t, me, '/api/v1/feed')).statusCode),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ status: 'degraded', checks: { redis: 'down' } });
  });

  it('uses Redis again by itself after a restart, and stays correct', async () => {
    await redisUp();
    const { me, friend } = await readerWithFeed();
    await redisDown();
    await createPost(t, friend, 'two');
    await runJobs(t);
    // read (and cached in-process) during the outage
    expect(await feedTexts(me)).toEqual(['two', 'one']);

    await redisUp();
    expect(await feedTexts(me)).toEqual(['two', 'one']);
    expect(await cachedInRedis(me.id)).toBe(true);
    await createPost(t, friend, 'three');
    await runJobs(t);
    expect(await cachedInRedis(me.id)).toBe(false); // fan-out dropped the cached page in Redis
    expect(await feedTexts(me)).toEqual(['three', 'two', 'one']);
    expect(await cachedInRedis(me.id)).toBe(true);
  });
});
