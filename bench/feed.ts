/**
 * The home feed's budget: `GET /api/v1/feed` (first page, 20 posts) as random seeded users, on the
 * real server, with the feed cache off (FEED_CACHE_TTL_SECONDS=0) and on (the default TTL), next to
 * a bare Fastify route running one primary-key SELECT for the same users on the same database, with
 * the same load. Goals: ≥ 0.5 × the bare route with the cache off, ≥ 1.2 × with it on; p99 at half
 * of peak ≤ 25 ms.
 *
 *   npm run bench:feed                 (TEST_DATABASE_URL=… to use the machine's Postgres;
 *                                       BENCH_REDIS=1 to cache in a redis-server of the bench's own)
 *   npm run bench:feed -- --keep-db    (machine's Postgres only: keep the seeded database for the next
 *                                       run with --keep-db, which reuses it instead of seeding again)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig } from '../apps/server/src/config.ts';
import { seedDatabase } from '../apps/server/src/platform/db/seed/seed.ts';
import { createLogger } from '../apps/server/src/platform/observability/logger.ts';
import { createPasswordHasher } from '../apps/server/src/platform/security/passwords.ts';
import { prepareDatabase } from '../apps/server/src/server.ts';
import { type BenchDatabase, createBenchDatabase } from './lib/database.ts';
import { collect, type LoadResult } from './lib/load.ts';
import {
  BARE_SERVER,
  cpuSeconds,
  freePort,
  PLUGIN_SERVER,
  productionEnv,
  SERVER_MAIN,
  type Started,
  startNode,
  stopAll,
} from './lib/processes.ts';
import { percentile, round, table, writeResult } from './lib/report.ts';

const CONNECTIONS = 20;
const DURATION_S = 10;
const WARM_UP_S = 2;
const PAGE_SIZE = 20;
/** The floor: at least 10,000 users × 50 friends and 200,000 posts. */
const SEED = { users: 10_000, friends: 50, posts: 200_000, seed: 1 };
/** Readers drawn at random (a fixed order, so runs compare) among users with a full first page. */
const READERS = 250;
const LOGIN_CONCURRENCY = 4;
const PASSWORD = 'bench password 0123456789';
const GOALS = { cacheOff: 0.5, cacheOn: 1.2, p99AtHalfPeakMs: 25 };

interface Reader {
  id: string;
  username: string;
  entries: number;
  token?: string;
}

interface Target {
  url: string;
  /** Called per request: the path and headers of the next one (cycling through the readers). */
  next: () => { path: string; headers?: Record<string, string> };
  overallRate?: number;
  duration?: number;
}

type Figures = LoadResult & { serverCpuUsPerRequest?: number };

/**
 * `measure`, and the CPU time the server process `pid` spent per request meanwhile: steadier than
 * throughput when other work shares the cores (for the bare route it leaves out Postgres's share).
 */
async function measureWithCpu(target: Target, pid: number): Promise<Figures> {
  const before = cpuSeconds(pid);
  const result = await measure(target);
  return { ...result, serverCpuUsPerRequest: round(((cpuSeconds(pid) - before) * 1e6) / result.requests, 0) };
}

/** autocannon with a different reader on every request, and every latency kept (exact percentiles). */
async function measure(target: Target): Promise<Figures> {
  const instance = autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: target.duration ?? DURATION_S,
    timeout: 30,
    ...(target.overallRate ? { overallRate: target.overallRate } : {}),
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, ...target.next() }) }],
  });
  return collect(instance);
}

const warmUp = (target: Target) => measure({ ...target, duration: WARM_UP_S });

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

/**
 * With --keep-db, a database named after the seed settings on TEST_DATABASE_URL's server, seeded on
 * the first run and reused (migrated if needed) by the next ones; never dropped by the bench.
 */
async function keptDatabase(): Promise<BenchDatabase & { seeded: boolean }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('--keep-db needs TEST_DATABASE_URL (the machine’s PostgreSQL)');
  const name = `kith_bench_feed_u${SEED.users}_f${SEED.friends}_p${SEED.posts}_s${SEED.seed}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  await prepareDatabase(url.toString(), true, createLogger('silent'));
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  // the seed is one transaction: users are there only if all of it is
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  await client.end();
  return { url: url.toString(), server: 'machine', seeded: rows[0]!.n > 0, drop: async () => {} };
}

async function seed(url: string): Promise<number> {
  process.stderr.write(`seeding ${SEED.users} users, ~${SEED.friends} friends each, ${SEED.posts} posts …\n`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // argon2id is slow by design: one hash for every seeded user
    const passwordHash = await createPasswordHasher(loadConfig({}).argon2).hash(PASSWORD);
    const seeded = await seedDatabase(client, { ...SEED, passwordHash });
    const seconds = round(seeded.timings.reduce((s, t) => s + t.ms, 0) / 1000);
    process.stderr.write(`  seeded in ${seconds} s\n`);
    return seconds;
  } finally {
    await client.end();
  }
}

/** READERS users with a full first page, in a fixed pseudo-random order. */
async function pickReaders(url: string): Promise<Reader[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Reader>(
      `SELECT u.id, u.username, count(*)::int AS entries
         FROM users u JOIN feed_entries e ON e.user_id = u.id
        WHERE u.banned_at IS NULL AND u.deactivated_at IS NULL
        GROUP BY u.id, u.username
       HAVING count(*) > $1
        ORDER BY md5(u.id::text) LIMIT $2`,
      [PAGE_SIZE, READERS],
    );
    if (rows.length < READERS) throw new Error(`only ${rows.length} users have a full first page`);
    return rows;
  } finally {
    await client.end();
  }
}

/** Signs every reader in over HTTP (argon2id each), a few at a time. */
async function signIn(kith: Started, readers: Reader[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < readers.length) {
      const reader = readers[next++]!;
      const res = await fetch(`${kith.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: reader.username, password: PASSWORD }),
      });
      if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
      reader.token = ((await res.json()) as { accessToken: string }).accessToken;
    }
  };
  await Promise.all(Array.from({ length: LOGIN_CONCURRENCY }, worker));
}

/** Reads every reader's first page once (fills the cache when it is on) and checks it is full. */
async function readEveryFeed(kith: Started, readers: Reader[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < readers.length) {
      const reader = readers[next++]!;
      const res = await fetch(`${kith.url}/api/v1/feed`, {
        headers: { authorization: `Bearer ${reader.token}` },
      });
      const page = (await res.json()) as { items?: unknown[] };
      if (res.status !== 200 || page.items?.length !== PAGE_SIZE)
        throw new Error(`${reader.username}'s feed answered ${res.status} with ${page.items?.length} posts`);
    }
  };
  await Promise.all(Array.from({ length: LOGIN_CONCURRENCY }, worker));
}

async function main() {
  const { values: flags } = parseArgs({ options: { 'keep-db': { type: 'boolean' } }, strict: true });
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-feed-'));
  const db = flags['keep-db'] ? await keptDatabase() : { ...(await createBenchDatabase()), seeded: false };
  let redis: { url: string; stop(): Promise<void> } | undefined;
  try {
    let seedSeconds: number | null = null;
    if (db.seeded) process.stderr.write(`reusing the seeded database ${new URL(db.url).pathname.slice(1)}\n`);
    else seedSeconds = await seed(db.url);
    const readers = await pickReaders(db.url);
    if (process.env.BENCH_REDIS === '1') redis = await startRedis(dir);

    // one key pair for both Kith processes: the readers' tokens stay valid across the restart
    const kithPort = await freePort();
    const kithEnv = {
      ...productionEnv(db.url, kithPort, join(dir, 'data')),
      ...(redis ? { REDIS_URL: redis.url } : {}),
      // measure the request path, not the limiter's 429s or load shedding at saturation
      RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
      RATE_LIMIT_LOGIN_IP: '1000000',
      MAX_EVENT_LOOP_UTILIZATION: '0',
      MAX_EVENT_LOOP_DELAY_MS: '0',
    };
    const startKith = (cacheTtl: string | undefined, log: string) =>
      startNode({
        what: 'Kith',
        script: SERVER_MAIN,
        cwd: join(SERVER_MAIN, '../..'),
        port: kithPort,
        env: { ...kithEnv, ...(cacheTtl === undefined ? {} : { FEED_CACHE_TTL_SECONDS: cacheTtl }) },
        readyPath: '/readyz',
        logFile: join(dir, log),
      });

    const barePort = await freePort();
    const bare = await startNode({
      what: 'bare Fastify',
      script: BARE_SERVER,
      port: barePort,
      env: { DATABASE_URL: db.url, PORT: String(barePort), POOL_SIZE: '10' },
      readyPath: '/hello',
      logFile: join(dir, 'bare.log'),
    });
    const pluginPort = await freePort();
    const plugins = await startNode({
      what: 'Fastify with the standard plugins',
      script: PLUGIN_SERVER,
      port: pluginPort,
      env: { PORT: String(pluginPort), MAX_EVENT_LOOP_UTILIZATION: '0', MAX_EVENT_LOOP_DELAY_MS: '0' },
      readyPath: '/hello',
      logFile: join(dir, 'plugins.log'),
    });
    const pluginTarget: Target = { url: plugins.url, next: () => ({ path: '/hello' }) };
    let pkNext = 0;
    const pkTarget: Target = {
      url: bare.url,
      next: () => ({ path: `/pk/${readers[pkNext++ % readers.length]!.id}` }),
    };
    let feedNext = 0;
    const feedTarget = (kith: Started): Target => ({
      url: kith.url,
      next: () => ({
        path: '/api/v1/feed',
        headers: { authorization: `Bearer ${readers[feedNext++ % readers.length]!.token}` },
      }),
    });
    const results: Record<string, Figures> = {};

    // cache off: every request reads the page from Postgres
    let kith = await startKith('0', 'kith-cache-off.log');
    process.stderr.write(`signing ${readers.length} readers in …\n`);
    await signIn(kith, readers);
    await readEveryFeed(kith, readers);
    process.stderr.write('measuring bare GET /pk/:id …\n');
    await warmUp(pkTarget);
    results.pkBeforeCacheOff = await measureWithCpu(pkTarget, bare.child.pid!);
    process.stderr.write('measuring Kith GET /api/v1/feed, cache off …\n');
    await warmUp(feedTarget(kith));
    results.feedCacheOff = await measureWithCpu(feedTarget(kith), kith.child.pid!);
    const halfOff = Math.max(1, Math.round(results.feedCacheOff.requestsPerSecond / 2));
    process.stderr.write(`  at half of peak (${halfOff} req/s) …\n`);
    results.feedCacheOffHalfPeak = await measure({ ...feedTarget(kith), overallRate: halfOff });
    await kith.stop();

    // cache on: the same database, a fresh process with the default TTL, every reader's page cached
    kith = await startKith(undefined, 'kith-cache-on.log');
    process.stderr.write('measuring bare GET /pk/:id again …\n');
    await warmUp(pkTarget);
    results.pkBeforeCacheOn = await measureWithCpu(pkTarget, bare.child.pid!);
    process.stderr.write('measuring the plugin-equivalent hello …\n');
    await warmUp(pluginTarget);
    results.pluginHello = await measureWithCpu(pluginTarget, plugins.child.pid!);
    process.stderr.write('measuring Kith GET /api/v1/feed, cache on …\n');
    await readEveryFeed(kith, readers);
    await warmUp(feedTarget(kith));
    results.feedCacheOn = await measureWithCpu(feedTarget(kith), kith.child.pid!);
    const halfOn = Math.max(1, Math.round(results.feedCacheOn.requestsPerSecond / 2));
    process.stderr.write(`  at half of peak (${halfOn} req/s) …\n`);
    results.feedCacheOnHalfPeak = await measure({ ...feedTarget(kith), overallRate: halfOn });

    // each mode is compared with the bare route measured just before it (the machine may drift)
    const ratios = {
      cacheOff: round(results.feedCacheOff.requestsPerSecond / results.pkBeforeCacheOff.requestsPerSecond, 2),
      cacheOn: round(results.feedCacheOn.requestsPerSecond / results.pkBeforeCacheOn.requestsPerSecond, 2),
      // a reference, not a budget: a cache hit next to a hello with the same standard plugins
      cacheOnVsPluginHello: round(
        results.feedCacheOn.requestsPerSecond / results.pluginHello.requestsPerSecond,
        2,
      ),
    };
    const p99AtHalfPeakMs = {
      cacheOff: results.feedCacheOffHalfPeak.p99Ms,
      cacheOn: results.feedCacheOnHalfPeak.p99Ms,
    };
    const names: Record<string, string> = {
      pkBeforeCacheOff: 'bare GET /pk/:id (one PK SELECT)',
      feedCacheOff: 'Kith GET /api/v1/feed, cache off',
      feedCacheOffHalfPeak: `  … at ${halfOff} req/s (half of peak)`,
      pkBeforeCacheOn: 'bare GET /pk/:id (one PK SELECT)',
      pluginHello: 'plugins GET /hello (helmet, CORS, compress, under-pressure, access log)',
      feedCacheOn: `Kith GET /api/v1/feed, cache on (${redis ? 'Redis' : 'in-process'})`,
      feedCacheOnHalfPeak: `  … at ${halfOn} req/s (half of peak)`,
    };
    const entries = readers.map((r) => r.entries);
    console.log(
      `\nHome feed — ${READERS} random readers (feed entries: median ${percentile(entries, 50)}, ` +
        `min ${Math.min(...entries)}); ${CONNECTIONS} connections, ${DURATION_S} s each after a ` +
        `${WARM_UP_S} s warm-up; seed ${SEED.users} users × ~${SEED.friends} friends, ${SEED.posts} posts; ` +
        `load generator and servers are separate processes sharing ${cpus().length} cores; database: ${db.server}\n`,
    );
    console.log(
      table([
        ['target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'non-2xx', 'errors'],
        ...Object.keys(names).map((key) => {
          const r = results[key]!;
          return [
            names[key]!,
            r.requestsPerSecond,
            r.p50Ms,
            r.p99Ms,
            r.serverCpuUsPerRequest ?? '',
            r.non2xx,
            r.errors,
          ];
        }),
      ]),
    );
    console.log(
      `\nfeed ÷ PK SELECT, cache off: ${ratios.cacheOff} (goal ≥ ${GOALS.cacheOff})    cache on: ` +
        `${ratios.cacheOn} (goal ≥ ${GOALS.cacheOn})\np99 at half of peak: cache off ` +
        `${p99AtHalfPeakMs.cacheOff} ms, cache on ${p99AtHalfPeakMs.cacheOn} ms (goal ≤ ${GOALS.p99AtHalfPeakMs} ms)\n` +
        `cache on ÷ plugin-equivalent hello: ${ratios.cacheOnVsPluginHello}`,
    );
    const file = await writeResult('feed', {
      settings: {
        connections: CONNECTIONS,
        durationSeconds: DURATION_S,
        warmUpSeconds: WARM_UP_S,
        pageSize: PAGE_SIZE,
        seed: SEED,
        seedSeconds,
        readers: READERS,
        readerFeedEntries: { median: percentile(entries, 50), min: Math.min(...entries) },
        cache: redis ? 'redis' : 'in-process',
        database: db.server,
        keptDatabase: Boolean(flags['keep-db']),
      },
      note:
        'server and load generator are separate processes on the same machine; each request is a ' +
        'different reader (and, for the bare route, that reader’s row); each mode is compared with ' +
        'the bare route measured just before it',
      results,
      ratios,
      p99AtHalfPeakMs,
      goals: GOALS,
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
