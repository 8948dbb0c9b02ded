/**
 * The home feed's budget: `GET /api/v1/feed` (first page, 20 posts, warm cache) on the real server
 * must reach ≥ 50 % of the throughput of a bare Fastify route running one primary-key SELECT on the
 * same seeded database, with the same load; and its p99 at half of that peak must stay ≤ 25 ms.
 *
 *   npm run bench:feed            (TEST_DATABASE_URL=… to use the machine's Postgres;
 *                                  BENCH_REDIS=1 to cache in a redis-server of the bench's own)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../apps/server/src/config.ts';
import { seedDatabase } from '../apps/server/src/platform/db/seed/seed.ts';
import { createPasswordHasher } from '../apps/server/src/platform/security/passwords.ts';
import { createBenchDatabase } from './lib/database.ts';
import { type LoadOptions, type LoadResult, load, warmUp } from './lib/load.ts';
import { BARE_SERVER, freePort, productionEnv, SERVER_MAIN, startNode, stopAll } from './lib/processes.ts';
import { round, table, writeResult } from './lib/report.ts';

const CONNECTIONS = 20;
const DURATION_S = 10;
const PAGE_SIZE = 20;
const SEED = { users: 5_000, friends: 50, posts: 40_000, seed: 1 };
const PASSWORD = 'bench password 0123456789';

/** A redis-server of the bench's own on a free port, without persistence; killed at the end. */
async function startRedis(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  child.stdout!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-feed-'));
  const db = await createBenchDatabase();
  let redis: { url: string; stop(): Promise<void> } | undefined;
  try {
    process.stderr.write(
      `seeding ${SEED.users} users, ~${SEED.friends} friends each, ${SEED.posts} posts …\n`,
    );
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let reader: { id: string; username: string; entries: number };
    try {
      // argon2id is slow by design: one hash for every seeded user
      const passwordHash = await createPasswordHasher(loadConfig({}).argon2).hash(PASSWORD);
      const seeded = await seedDatabase(client, { ...SEED, passwordHash });
      process.stderr.write(`  seeded in ${round(seeded.timings.reduce((s, t) => s + t.ms, 0) / 1000)} s\n`);
      const { rows } = await client.query<{ id: string; username: string; entries: number }>(`
        SELECT u.id, u.username, count(*)::int AS entries
          FROM feed_entries e JOIN users u ON u.id = e.user_id
         WHERE u.banned_at IS NULL
         GROUP BY u.id, u.username
         ORDER BY count(*) DESC LIMIT 1`);
      reader = rows[0]!;
    } finally {
      await client.end();
    }
    if (process.env.BENCH_REDIS === '1') redis = await startRedis(dir);

    const kithPort = await freePort();
    const kith = await startNode({
      what: 'Kith',
      script: SERVER_MAIN,
      cwd: join(SERVER_MAIN, '../..'),
      port: kithPort,
      env: {
        ...productionEnv(db.url, kithPort, join(dir, 'data')),
        ...(redis ? { REDIS_URL: redis.url } : {}),
        // measure the request path, not the limiter's 429s or load shedding at saturation
        RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
        MAX_EVENT_LOOP_UTILIZATION: '0',
        MAX_EVENT_LOOP_DELAY_MS: '0',
      },
      readyPath: '/readyz',
      logFile: join(dir, 'kith.log'),
    });
    const login = await fetch(`${kith.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: reader.username, password: PASSWORD }),
    });
    if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };
    const page = (await (await fetch(`${kith.url}/api/v1/feed`, { headers })).json()) as { items: unknown[] };
    if (page.items.length !== PAGE_SIZE)
      throw new Error(`the reader's first page has ${page.items.length} posts, not ${PAGE_SIZE}`);

    const barePort = await freePort();
    const bare = await startNode({
      what: 'bare Fastify',
      script: BARE_SERVER,
      port: barePort,
      env: { DATABASE_URL: db.url, PORT: String(barePort), POOL_SIZE: '10' },
      readyPath: '/hello',
      logFile: join(dir, 'bare.log'),
    });

    const pkTarget: LoadOptions = {
      url: `${bare.url}/pk/${reader.id}`,
      connections: CONNECTIONS,
      duration: DURATION_S,
    };
    const feedTarget: LoadOptions = {
      url: `${kith.url}/api/v1/feed`,
      connections: CONNECTIONS,
      duration: DURATION_S,
      headers,
    };
    const results: Record<string, LoadResult> = {};
    process.stderr.write('measuring bare GET /pk/:id …\n');
    await warmUp(pkTarget);
    results.pk = await load(pkTarget);
    process.stderr.write('measuring Kith GET /api/v1/feed at full load …\n');
    await warmUp(feedTarget); // also fills the cache: the measured run reads a warm first page
    results.feed = await load(feedTarget);
    const halfRate = Math.max(1, Math.round(results.feed.requestsPerSecond / 2));
    process.stderr.write(`measuring Kith GET /api/v1/feed at half of peak (${halfRate} req/s) …\n`);
    results.feedHalfLoad = await load({ ...feedTarget, overallRate: halfRate });

    const ratio = round(results.feed.requestsPerSecond / results.pk.requestsPerSecond, 2);
    const names: Record<string, string> = {
      pk: 'bare GET /pk/:id (one PK SELECT)',
      feed: `Kith GET /api/v1/feed (${PAGE_SIZE} posts, warm cache)`,
      feedHalfLoad: `Kith GET /api/v1/feed at ${halfRate} req/s (half of peak)`,
    };
    console.log(
      `\nHome feed — ${CONNECTIONS} connections, ${DURATION_S} s each after a 2 s warm-up; cache: ` +
        `${redis ? 'Redis' : 'in-process'}; reader with ${reader.entries} feed entries; load generator ` +
        `and servers are separate processes sharing ${cpus().length} cores; database: ${db.server}\n`,
    );
    console.log(
      table([
        ['target', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        ...Object.entries(results).map(([key, r]) => [
          names[key]!,
          r.requestsPerSecond,
          r.p50Ms,
          r.p99Ms,
          r.non2xx,
          r.errors,
        ]),
      ]),
    );
    console.log(
      `\nfeed ÷ PK SELECT: ${ratio} (goal ≥ 0.5)    feed p99 at half of peak: ` +
        `${results.feedHalfLoad.p99Ms} ms (goal ≤ 25 ms)`,
    );
    const file = await writeResult('feed', {
      settings: {
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
        pageSize: PAGE_SIZE,
        seed: SEED,
        readerFeedEntries: reader.entries,
        cache: redis ? 'redis' : 'in-process',
        database: db.server,
      },
      note: 'server and load generator are separate processes on the same machine',
      results,
      ratios: { feedVsPrimaryKeySelect: ratio },
      p99AtHalfPeakMs: results.feedHalfLoad.p99Ms,
    });
    console.log(`written to ${file}`);
  } finally {
    await stopAll();
    await redis?.stop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
