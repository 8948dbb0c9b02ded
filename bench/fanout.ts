/**
 * Feed fan-out on write: a user with 5,000 friends, all recently active, publishes a post.
 *
 * - End to end, on the real server (api and worker roles in one process): the time from the POST
 *   to the post being in every friend's feed (feed_entries polled in Postgres, then the first page
 *   of a sample of friends read over HTTP), and the worker's own job time from its log.
 * - The job handler alone (`feed.fan-out` from src/jobs.ts, run in this process on the same
 *   database): feed entries written per second, next to the bare baseline — the same 5,000 rows
 *   written by one plain INSERT … SELECT from the author's friendships — in the same run.
 *
 *   npm run bench:fanout        (TEST_DATABASE_URL=… to use the machine's Postgres)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../apps/server/src/config.ts';
import { jobHandlers } from '../apps/server/src/jobs.ts';
import { seedDatabase } from '../apps/server/src/platform/db/seed/seed.ts';
import { createLogger } from '../apps/server/src/platform/observability/logger.ts';
import { createPlatform } from '../apps/server/src/platform/platform.ts';
import { createPasswordHasher } from '../apps/server/src/platform/security/passwords.ts';
import { createBenchDatabase } from './lib/database.ts';
import { freePort, productionEnv, SERVER_MAIN, type Started, startNode, stopAll } from './lib/processes.ts';
import { median, round, table, writeResult } from './lib/report.ts';

const FRIENDS = 5_000;
/** Every user but the author becomes the author's friend; the rest of the graph is the seed's. */
const SEED = { users: FRIENDS + 1, friends: 20, posts: 20_000, seed: 2 };
const POSTS = 5;
const HANDLER_RUNS = 5;
/** Friends whose entries are polled every POLL_MS, and whose first page is then read over HTTP. */
const POLL_SAMPLE = 100;
const FEED_SAMPLE = 5;
const POLL_MS = 2;
const VISIBLE_TIMEOUT_MS = 60_000;
const PASSWORD = 'bench password 0123456789';

interface Account {
  id: string;
  username: string;
  token?: string;
}

/** Seeds on a connection of its own: the seed's session settings (synchronous_commit off…) stay there. */
async function seed(url: string): Promise<number> {
  process.stderr.write(`seeding ${SEED.users} users, ~${SEED.friends} friends each, ${SEED.posts} posts …\n`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const passwordHash = await createPasswordHasher(loadConfig({}).argon2).hash(PASSWORD);
    const seeded = await seedDatabase(client, { ...SEED, passwordHash });
    return round(seeded.timings.reduce((s, t) => s + t.ms, 0) / 1000);
  } finally {
    await client.end();
  }
}

/** The author and FRIENDS friends, every one active now and not banned. */
async function makeAuthor(client: pg.Client): Promise<{ author: Account; friends: Account[] }> {
  const { rows: authors } = await client.query<Account>(
    'SELECT id, username FROM users WHERE banned_at IS NULL AND deactivated_at IS NULL ORDER BY id LIMIT 1',
  );
  const author = authors[0]!;
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO friendships (user_id, friend_id) SELECT $1, id FROM users WHERE id <> $1 ON CONFLICT DO NOTHING`,
    [author.id],
  );
  await client.query(
    `INSERT INTO friendships (user_id, friend_id) SELECT id, $1 FROM users WHERE id <> $1 ON CONFLICT DO NOTHING`,
    [author.id],
  );
  await client.query('UPDATE users SET last_active_at = now(), banned_at = NULL WHERE id <> $1', [author.id]);
  await client.query('COMMIT');
  await client.query('ANALYZE users, friendships');
  const { rows: friends } = await client.query<Account>(
    `SELECT u.id, u.username FROM friendships f JOIN users u ON u.id = f.friend_id
      WHERE f.user_id = $1 AND u.deactivated_at IS NULL ORDER BY md5(u.id::text)`,
    [author.id],
  );
  if (friends.length !== FRIENDS) throw new Error(`the author has ${friends.length} friends, not ${FRIENDS}`);
  return { author, friends };
}

async function login(kith: Started, account: Account): Promise<void> {
  const res = await fetch(`${kith.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: account.username, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  account.token = ((await res.json()) as { accessToken: string }).accessToken;
}

async function publish(kith: Started, author: Account, text: string): Promise<string> {
  const res = await fetch(`${kith.url}/api/v1/posts`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${author.token}`,
      'idempotency-key': randomUUID(),
    },
    body: JSON.stringify({ text, visibility: 'friends' }),
  });
  if (res.status !== 201) throw new Error(`POST /posts answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

const entriesOf = async (client: pg.Client, postId: string) =>
  (
    await client.query<{ n: number }>('SELECT count(*)::int AS n FROM feed_entries WHERE post_id = $1', [
      postId,
    ])
  ).rows[0]!.n;

/**
 * Resolves with the time (performance.now()) at which every friend and the author had the post in
 * their feed: a sample of friends is polled by primary key every POLL_MS (cheap), then the full count.
 */
async function waitUntilEverywhere(
  client: pg.Client,
  postId: string,
  sample: readonly string[],
): Promise<number> {
  const deadline = performance.now() + VISIBLE_TIMEOUT_MS;
  let sampled = false;
  for (;;) {
    if (!sampled) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM feed_entries WHERE user_id = ANY($1::uuid[]) AND post_id = $2',
        [sample, postId],
      );
      sampled = rows[0]!.n === sample.length;
    }
    if (sampled && (await entriesOf(client, postId)) === FRIENDS + 1) return performance.now();
    if (performance.now() > deadline)
      throw new Error(`post ${postId} not in every feed after ${VISIBLE_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The first page of each sampled friend (over HTTP, cache included) must start with the post. */
async function checkFeeds(kith: Started, readers: readonly Account[], postId: string): Promise<void> {
  for (const reader of readers) {
    const res = await fetch(`${kith.url}/api/v1/feed`, {
      headers: { authorization: `Bearer ${reader.token}` },
    });
    const page = (await res.json()) as { items?: { id: string }[] };
    if (res.status !== 200 || page.items?.[0]?.id !== postId)
      throw new Error(`${reader.username}'s feed does not start with post ${postId} (status ${res.status})`);
  }
}

/** `latency_ms` of every completed `feed.fan-out` job in the server's JSON log, in order. */
async function workerJobTimes(logFile: string): Promise<number[]> {
  const times: number[] = [];
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.includes('"feed.fan-out"')) continue;
    try {
      const entry = JSON.parse(line) as { task?: string; status?: string; latency_ms?: number };
      if (entry.task === 'feed.fan-out' && entry.status === 'ok' && entry.latency_ms !== undefined)
        times.push(entry.latency_ms);
    } catch {
      // not a log line of ours
    }
  }
  return times;
}

const perSecond = (rows: number, ms: number) => Math.round((rows / ms) * 1000);

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-fanout-'));
  const db = await createBenchDatabase();
  let client: pg.Client | undefined;
  try {
    const seedSeconds = await seed(db.url);
    const conn = new pg.Client({ connectionString: db.url });
    client = conn;
    await conn.connect();
    const { author, friends } = await makeAuthor(conn);
    const pollSample = friends.slice(0, POLL_SAMPLE).map((f) => f.id);
    const feedSample = friends.slice(0, FEED_SAMPLE);

    const port = await freePort();
    const env = {
      ...productionEnv(db.url, port, join(dir, 'data')),
      RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
      MAX_EVENT_LOOP_UTILIZATION: '0',
      MAX_EVENT_LOOP_DELAY_MS: '0',
    };
    const startKith = (roles: string, logFile: string) =>
      startNode({
        what: `Kith (${roles})`,
        script: SERVER_MAIN,
        cwd: join(SERVER_MAIN, '../..'),
        port,
        env: { ...env, KITH_ROLES: roles },
        readyPath: '/readyz',
        logFile,
      });

    // 1. End to end: POST → the worker's job → in every friend's feed
    const e2eLog = join(dir, 'kith-e2e.log');
    let kith = await startKith('api,worker', e2eLog);
    for (const account of [author, ...feedSample]) await login(kith, account);
    const e2e: { ackMs: number; visibleMs: number }[] = [];
    process.stderr.write(
      `posting ${POSTS} times (after one warm-up post) as a user with ${FRIENDS} friends …\n`,
    );
    for (let i = 0; i <= POSTS; i++) {
      const started = performance.now();
      const postId = await publish(kith, author, `fan-out bench post ${i} #bench`);
      const acked = performance.now();
      const visible = await waitUntilEverywhere(conn, postId, pollSample);
      await checkFeeds(kith, feedSample, postId);
      if (i > 0) e2e.push({ ackMs: round(acked - started, 2), visibleMs: round(visible - started, 2) });
    }
    await kith.stop();
    const jobMs = (await workerJobTimes(e2eLog)).slice(1);
    if (jobMs.length !== POSTS)
      throw new Error(`found ${jobMs.length} fan-out jobs in the log, not ${POSTS}`);

    // 2. The handler alone next to a plain INSERT … SELECT: posts are made by an api-only process
    // (their fan-out jobs stay queued), then fanned out here.
    kith = await startKith('api', join(dir, 'kith-api.log'));
    const pairs: { handlerPost: string; barePost: string }[] = [];
    for (let i = 0; i <= HANDLER_RUNS; i++) {
      pairs.push({
        handlerPost: await publish(kith, author, `handler bench post ${i}`),
        barePost: await publish(kith, author, `baseline bench post ${i}`),
      });
    }
    await kith.stop();
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      DATA_DIR: join(dir, 'data'),
    });
    const platform = await createPlatform({ config, logger: createLogger('silent'), databaseUrl: db.url });
    const handlers = jobHandlers(platform);
    const handlerMs: number[] = [];
    const bareMs: number[] = [];
    process.stderr.write(
      `running the feed.fan-out handler and the bare INSERT … SELECT ${HANDLER_RUNS} times each …\n`,
    );
    try {
      const timeHandler = async (postId: string) => {
        const started = performance.now();
        await handlers['feed.fan-out']({ postId }, { jobId: 'bench', attempts: 1 });
        return performance.now() - started;
      };
      const timeBare = async (postId: string) => {
        const started = performance.now();
        const { rowCount } = await conn.query(
          `INSERT INTO feed_entries (user_id, post_id, author_id)
           SELECT friend_id, $1, $2 FROM friendships WHERE user_id = $2`,
          [postId, author.id],
        );
        const ms = performance.now() - started;
        if (rowCount !== FRIENDS) throw new Error(`the baseline wrote ${rowCount} rows, not ${FRIENDS}`);
        return ms;
      };
      for (const [i, pair] of pairs.entries()) {
        // alternate which goes first; the first pair only warms up
        let h: number;
        let b: number;
        if (i % 2 === 0) {
          h = await timeHandler(pair.handlerPost);
          b = await timeBare(pair.barePost);
        } else {
          b = await timeBare(pair.barePost);
          h = await timeHandler(pair.handlerPost);
        }
        if ((await entriesOf(conn, pair.handlerPost)) !== FRIENDS + 1)
          throw new Error(`the handler did not write ${FRIENDS} entries for ${pair.handlerPost}`);
        if (i === 0) continue;
        handlerMs.push(round(h, 2));
        bareMs.push(round(b, 2));
      }
    } finally {
      await platform.close();
    }

    const figures = {
      handler: {
        medianMs: median(handlerMs),
        entriesPerSecond: perSecond(FRIENDS, median(handlerMs)),
        runsMs: handlerMs,
      },
      bareInsertSelect: {
        medianMs: median(bareMs),
        entriesPerSecond: perSecond(FRIENDS, median(bareMs)),
        runsMs: bareMs,
      },
      workerJob: {
        medianMs: median(jobMs),
        entriesPerSecond: perSecond(FRIENDS, median(jobMs)),
        runsMs: jobMs,
      },
      endToEnd: {
        postAckMedianMs: median(e2e.map((r) => r.ackMs)),
        visibleEverywhereMedianMs: median(e2e.map((r) => r.visibleMs)),
        visibleEverywhereMaxMs: Math.max(...e2e.map((r) => r.visibleMs)),
        runs: e2e,
      },
    };
    const ratio = round(figures.handler.entriesPerSecond / figures.bareInsertSelect.entriesPerSecond, 2);
    console.log(
      `\nFeed fan-out — one author with ${FRIENDS} active friends; seed ${SEED.users} users, ${SEED.posts} posts; ` +
        `${POSTS} posts end to end (api+worker in one process), ${HANDLER_RUNS} handler/baseline pairs ` +
        `(after one warm-up each); ${cpus().length} cores; database: ${db.server}\n`,
    );
    console.log(
      table([
        ['what', 'median ms', 'entries/s', 'runs ms'],
        [
          'bare INSERT … SELECT (5,000 rows)',
          figures.bareInsertSelect.medianMs,
          figures.bareInsertSelect.entriesPerSecond,
          bareMs.join(' '),
        ],
        [
          'feed.fan-out handler, in process',
          figures.handler.medianMs,
          figures.handler.entriesPerSecond,
          handlerMs.join(' '),
        ],
        [
          'feed.fan-out job in the worker (its log)',
          figures.workerJob.medianMs,
          figures.workerJob.entriesPerSecond,
          jobMs.join(' '),
        ],
        [
          'POST /api/v1/posts answered',
          figures.endToEnd.postAckMedianMs,
          '',
          e2e.map((r) => r.ackMs).join(' '),
        ],
        [
          'POST → in all 5,001 feeds',
          figures.endToEnd.visibleEverywhereMedianMs,
          '',
          e2e.map((r) => r.visibleMs).join(' '),
        ],
      ]),
    );
    console.log(
      `\nhandler ÷ bare INSERT … SELECT (entries/s): ${ratio}    POST → visible everywhere: median ` +
        `${figures.endToEnd.visibleEverywhereMedianMs} ms, max ${figures.endToEnd.visibleEverywhereMaxMs} ms ` +
        `(polled every ${POLL_MS} ms; ${FEED_SAMPLE} friends' first pages checked over HTTP each time)`,
    );
    const file = await writeResult('fanout', {
      settings: {
        friends: FRIENDS,
        seed: SEED,
        seedSeconds,
        posts: POSTS,
        handlerRuns: HANDLER_RUNS,
        pollEveryMs: POLL_MS,
        feedSample: FEED_SAMPLE,
        cache: 'in-process',
        database: db.server,
      },
      note:
        'end to end: api and worker roles in one server process, feed_entries polled from the bench ' +
        'process; handler and baseline: this process, same database, alternating order',
      results: figures,
      ratios: { handlerVsBareInsertSelect: ratio },
    });
    console.log(`written to ${file}`);
  } finally {
    await stopAll();
    await client?.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
