import pg from 'pg';
import type { Gauge } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { buildAppOn } from './helpers/private-postgres.ts';
import { startRedisServer } from './helpers/redis-server.ts';
import {
  haveReplicationBinaries,
  type ReplicatedPostgres,
  replicatedPostgres,
} from './helpers/replicated-postgres.ts';
import { createPost, get } from './helpers/social.ts';
import { until } from './helpers/wait.ts';

/**
 * Lag-aware replica routing against a real primary and a real streaming replica
 * (pg_basebackup -R): lag-tolerant reads (feed pages) use the replica while it is within the bound,
 * fall back to the primary when it lags (replay paused) or is down, and a user who just wrote reads
 * their write on any instance (the watermark lives in Redis).
 */
const STRICT_LAG_MS = 300;
// processes started, stopped and waited for: room for a loaded machine (no timing is asserted)
const redis = await startRedisServer();

let pgs: ReplicatedPostgres | undefined;
/** Two instances with a lenient bound (60 s: never reached here) and one with a strict one. */
let a: TestApp;
let b: TestApp;
let strict: TestApp;
let alice: TestUser;
let bob: TestUser;

const env = (maxLagMs: number, replicaUrl: string) => ({
  ...GENEROUS_AUTH_LIMITS,
  REDIS_URL: redis.url,
  DATABASE_READ_URLS: replicaUrl,
  DATABASE_REPLICA_MAX_LAG_MS: String(maxLagMs),
  DATABASE_REPLICA_PROBE_INTERVAL_MS: '50',
  // every feed read reaches the database (a cached first page would hide the routing)
  FEED_CACHE_TTL_SECONDS: '0',
});

/** kith_db_reads_total{pool, reason} of one instance. */
async function reads(t: TestApp, pool: 'primary' | 'replica', reason: string): Promise<number> {
  const metric = t.platform.metrics.registry.getSingleMetric('kith_db_reads_total')!;
  const { values } = await metric.get();
  return values.find((v) => v.labels.pool === pool && v.labels.reason === reason)?.value ?? 0;
}

async function gauge(t: TestApp, name: string): Promise<number | undefined> {
  const metric = t.platform.metrics.registry.getSingleMetric(name) as Gauge;
  return (await metric.get()).values[0]?.value;
}

const replicaOf = (t: TestApp) => t.platform.db.router.status()[0]!;

/** Until the instance's last probe saw the replica up and fully replayed. */
const inSync = (t: TestApp) =>
  until(() => replicaOf(t).healthy && replicaOf(t).lagMs === 0, {
    what: 'the router to see the replica in sync',
    timeoutMs: 30_000,
  });

/** A feed read that must succeed; counts which pool served it (by reason). */
async function feed(t: TestApp, user: TestUser): Promise<string[]> {
  const res = await get(t, user, '/api/v1/feed');
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items.map((p: { text: string }) => p.text);
}

describe.skipIf(!haveReplicationBinaries)(
  'lag-aware replica routing (real primary + streaming replica)',
  () => {
    beforeAll(async () => {
      pgs = replicatedPostgres();
      await pgs.start();
      a = await buildAppOn(pgs.primaryUrl, env(60_000, pgs.replicaUrl));
      b = await buildAppOn(pgs.primaryUrl, env(60_000, pgs.replicaUrl));
      strict = await buildAppOn(pgs.primaryUrl, env(STRICT_LAG_MS, pgs.replicaUrl));
      alice = await createUser(a);
      bob = await createUser(a);
    }, 180_000);

    afterAll(async () => {
      for (const t of [a, b, strict]) await t?.close();
      await pgs?.stop();
    }, 60_000);

    it('serves lag-tolerant reads from the replica while it is in sync', async () => {
      await pgs!.caughtUp();
      await inSync(a);
      const before = await reads(a, 'replica', 'replica');
      expect(await feed(a, bob)).toEqual([]);
      expect(await reads(a, 'replica', 'replica')).toBe(before + 1);
      expect(await gauge(a, 'kith_db_replica_healthy')).toBe(1);
      // profile pages too (the user, then their post count)
      const profile = await get(a, bob, `/api/v1/users/${alice.username}`);
      expect(profile.statusCode, profile.body).toBe(200);
      expect(profile.json()).toMatchObject({ username: alice.username });
      expect(await reads(a, 'replica', 'replica')).toBeGreaterThan(before + 1);
    }, 90_000);

    // Cross-instance read-your-writes (issue 13). The primary here runs with synchronous_commit =
    // off: the watermark must be the WAL insert position (the write position can be behind an
    // asynchronous commit, so a paused replica at it looked as if it had the write).
    it('a user who just wrote reads the write at once on another instance (primary); others still use the replica', async () => {
      await pgs!.pauseReplay();
      const post = await createPost(a, alice, 'written while replay is paused', 'public');
      // the replica has not got it: a read there would not show it
      const replica = new pg.Client({ connectionString: pgs!.replicaUrl });
      await replica.connect();
      try {
        expect((await replica.query('SELECT 1 FROM posts WHERE id = $1', [post.id])).rowCount).toBe(0);
      } finally {
        await replica.end();
      }

      const ryw = await reads(b, 'primary', 'read_your_writes');
      expect(await feed(b, alice)).toEqual(['written while replay is paused']);
      expect(await reads(b, 'primary', 'read_your_writes')).toBe(ryw + 1);

      // bob did not write: the replica (60 s bound on b) serves him
      const onReplica = await reads(b, 'replica', 'replica');
      expect(await feed(b, bob)).toEqual([]);
      expect(await reads(b, 'replica', 'replica')).toBe(onReplica + 1);
    }, 90_000);

    it('a replica lagging over the bound serves nothing: reads fall back to the primary, counted, lag exported', async () => {
      // replay paused (here, as the test above left it) and the primary moves on: the lag grows
      // past the strict bound
      await pgs!.pauseReplay();
      await createPost(a, alice, 'written while the replica lags', 'public');
      await until(() => (replicaOf(strict).lagMs ?? 0) > STRICT_LAG_MS, {
        what: 'the lag to pass the bound',
        timeoutMs: 30_000,
      });
      expect(await gauge(strict, 'kith_db_replica_lag_seconds')).toBeGreaterThan(STRICT_LAG_MS / 1000);
      const lagged = await reads(strict, 'primary', 'lag');
      expect(await feed(strict, bob)).toEqual([]);
      expect(await reads(strict, 'primary', 'lag')).toBe(lagged + 1);

      // replay resumes: the replica is back in sync and serves reads again, alice's too (her write
      // is replayed)
      await pgs!.resumeReplay();
      await pgs!.caughtUp();
      await inSync(strict);
      await inSync(b);
      // in sync by the primary's write position; alice's watermark is its insert position, which an
      // asynchronous commit may have left ahead of it until the WAL writer flushed: wait for b's
      // probe to see the replica past her write (else her read rightly stays on the primary)
      const watermark = await b.platform.cache.getShared<string>(`db:ryw:${alice.id}`);
      await until(() => watermark === undefined || replicaOf(b).replayLsn >= BigInt(`0x${watermark}`), {
        what: "the replica to replay alice's write",
        timeoutMs: 30_000,
      });
      const back = await reads(strict, 'replica', 'replica');
      expect(await feed(strict, bob)).toEqual([]);
      expect(await reads(strict, 'replica', 'replica')).toBe(back + 1);
      const aliceBack = await reads(b, 'replica', 'replica');
      expect(await feed(b, alice)).toEqual([
        'written while the replica lags',
        'written while replay is paused',
      ]);
      expect(await reads(b, 'replica', 'replica')).toBe(aliceBack + 1);
    }, 90_000);

    it('a stopped replica: reads move to the primary and none fails; started again, reads return to it', async () => {
      await inSync(a);
      const servedByPrimary = async () =>
        (await reads(a, 'primary', 'retry')) + (await reads(a, 'primary', 'down'));
      const before = await servedByPrimary();
      await pgs!.stopReplica();
      // the first reads may reach the replica before a probe notices: they run again on the primary
      for (let i = 0; i < 5; i++) expect(await feed(a, bob)).toEqual([]);
      expect(await servedByPrimary()).toBe(before + 5);
      await until(() => !replicaOf(a).healthy, { what: 'the replica to be seen down', timeoutMs: 30_000 });
      expect(await gauge(a, 'kith_db_replica_healthy')).toBe(0);
      const down = await reads(a, 'primary', 'down');
      expect(await feed(a, bob)).toEqual([]);
      expect(await reads(a, 'primary', 'down')).toBe(down + 1);

      await pgs!.startReplica();
      await pgs!.caughtUp();
      await inSync(a);
      const back = await reads(a, 'replica', 'replica');
      expect(await feed(a, bob)).toEqual([]);
      expect(await reads(a, 'replica', 'replica')).toBe(back + 1);
      expect(await gauge(a, 'kith_db_replica_healthy')).toBe(1);
    }, 90_000);
  },
);
