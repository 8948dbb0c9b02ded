/**
 * `npm run drills` — fault drills against the scaled shape (`npm run cluster`), each under the
 * day-in-the-life mix at an open-loop rate (DRILL_RATE, default 10/s) for DRILL_SECONDS (default
 * 45 s; the fault comes 8 s in). Each prints a verdict, the error rate during the fault, and the
 * time to full recovery, after two verifiers: chat (every acknowledged message stored exactly once
 * and every member's socket copy holds every seq exactly once) and posts (every post answered 201
 * can be read). `npm run drills -- kill-instance redis-stop` runs only those. Uses a running cluster
 * (it must have the control channel and `--load`'s rate limits; pg-latency also `--db-link`), or
 * starts one (`--load --db-link`) and stops it at the end. 127.0.0.1 only. What a drill injects is
 * undone in a finally (and on Ctrl-C): no delay left on the db link, replay resumed, storm ended.
 * Results: bench/results/drills-<date>.json. Exits 1 when a drill fails, 2 when the run could not be made.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  type ClusterHandle,
  DIR,
  ensureCluster,
  load,
  makeWorld,
  mix,
  ORIGIN,
  type Outcome,
  ROOT,
  say,
  sleep,
  verify,
  type World,
} from './lib/cluster-load.ts';
import { openLoop } from './load-driver.ts';

const RATE = Number(process.env.DRILL_RATE ?? 10);
const SECONDS = Number(process.env.DRILL_SECONDS ?? 45);
const FAULT_AT_MS = 8_000;
/** A failed arrival that took this long is a hang, not a fast failure. */
const HANG_MS = 5_000;

interface Drill {
  name: string;
  /** What must hold, besides nothing lost and full recovery. */
  promise: string;
  /** The run's length when the fault needs longer than DRILL_SECONDS. */
  seconds?: number;
  /** Every request must succeed (the rolling restart). */
  zeroErrors?: boolean;
  /** Failures must be fast (503 + Retry-After or a quick error), never a hang. */
  failFast?: boolean;
  /** Every arrival of the fault window, answered or not, must end within this (no hang, no pile-up). */
  boundMs?: number;
  /** Failures allowed during the fault, as a share of its arrivals (the SLO's error budget). */
  errorBudget?: number;
  /** Every failure must be a refusal that says when to retry: 503 + Retry-After, a retryable chat error. */
  shedOnly?: boolean;
  /** The median after the heal must be back near the baseline's (a slowdown, not a lasting one). */
  latencyRecovers?: boolean;
  /** Scrape the instances' /metrics every second (reads by pool and reason, replica lag, pool waits). */
  sample?: boolean;
  /** Why the drill cannot run on this cluster, if it cannot. */
  needs?: (c: ClusterHandle) => string | undefined;
  /** Injects the fault and heals it; resolves once the component is back. */
  run: (c: ClusterHandle, w: World) => Promise<void>;
  /** An extra check after the load (e.g. no duplicate job effects); notes go to the report. */
  check?: (c: ClusterHandle, w: World, run: RunFacts) => Promise<string | undefined>;
}

/** What a check may look at besides the world: the metrics samples and the fault's times. */
interface RunFacts {
  /** The scrapes every instance answered (one that did not would undercount). */
  samples: Sample[];
  /** Scrapes during the fault that some instance did not answer within 2 s. */
  incomplete: number;
  faultAt: number;
  backAt: number;
  /** Every arrival of the run (ms since its start). */
  timeline: Outcome[];
  notes: string[];
}

/** When the drill under way healed its fault (performance.now()), if before its run() resolved. */
let healedAt: number | undefined;

/** Undo steps of the fault under way, run in the drill's finally and on Ctrl-C: nothing is left injected. */
const undo = new Map<string, () => unknown>();
async function undoAll(): Promise<void> {
  for (const [name, step] of [...undo]) {
    undo.delete(name);
    try {
      await step();
    } catch (err) {
      say(`     undo "${name}" failed: ${(err as Error).message}`);
    }
  }
}

const psql = (c: ClusterHandle, sql: string, which: 'primary' | 'replica' = 'primary') => {
  const url = c.state().urls[which];
  const port = url && /127\.0\.0\.1:(\d+)/.exec(url)?.[1];
  if (!port) throw new Error(`cluster.json names no ${which}: restart npm run cluster`);
  return execFileSync(
    'psql',
    ['-h', join(DIR, 'sockets'), '-p', port, '-U', 'postgres', '-d', 'kith', '-Atc', sql],
    { encoding: 'utf8' },
  ).trim();
};

/** One scrape of every instance's /metrics, `at` ms into the run. */
interface Sample {
  at: number;
  /** kith_db_reads_total summed over the instances, by `pool/reason`. */
  reads: Record<string, number>;
  /** The largest kith_db_replica_lag_seconds an instance reports (ms). */
  lagMs: number;
  /** kith_db_replica_max_lag_seconds (ms). */
  boundMs: number;
  /** Requests waiting for a connection of a primary pool, summed over the instances. */
  waiting: number;
  /** Connections of the primary pools checked out, summed over the instances. */
  inUse: number;
  /** Instances whose /metrics answered within 2 s (of `of`). */
  answered: number;
  of: number;
}

async function scrape(c: ClusterHandle, at: number): Promise<Sample> {
  const urls = (c.state().urls.metrics ?? '').split(' ').filter(Boolean);
  const texts = await Promise.all(
    urls.map((u) =>
      fetch(u, {
        headers: c.metricsToken ? { authorization: `Bearer ${c.metricsToken}` } : {},
        signal: AbortSignal.timeout(2_000),
      })
        .then((r) => (r.ok ? r.text() : ''))
        .catch(() => ''),
    ),
  );
  const sample: Sample = {
    at,
    reads: {},
    lagMs: 0,
    boundMs: 0,
    waiting: 0,
    inUse: 0,
    answered: texts.filter(Boolean).length,
    of: urls.length,
  };
  for (const line of texts.join('\n').split('\n')) {
    const m = /^(kith_db_[a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    const value = Number(m[3]);
    if (m[1] === 'kith_db_reads_total') {
      const key = `${labels.pool}/${labels.reason}`;
      sample.reads[key] = (sample.reads[key] ?? 0) + value;
    } else if (m[1] === 'kith_db_replica_lag_seconds') sample.lagMs = Math.max(sample.lagMs, value * 1000);
    else if (m[1] === 'kith_db_replica_max_lag_seconds') sample.boundMs = value * 1000;
    else if (m[1] === 'kith_db_pool_connections' && labels.pool === 'primary' && labels.state === 'waiting')
      sample.waiting += value;
    else if (m[1] === 'kith_db_pool_connections' && labels.pool === 'primary' && labels.state === 'in_use')
      sample.inUse += value;
  }
  return sample;
}

/** Reads counted under `key` between two samples. */
const readsBetween = (a: Sample | undefined, b: Sample | undefined, key: string) =>
  a && b ? (b.reads[key] ?? 0) - (a.reads[key] ?? 0) : 0;

/** The sample nearest before `at` (or the first). */
const sampleAt = (samples: Sample[], at: number) => samples.filter((s) => s.at <= at).at(-1) ?? samples[0];

/** Kith's primary pools over the fault, from the samples (all instances summed). */
function poolUse(run: RunFacts): string {
  const during = run.samples.filter((s) => s.at >= run.faultAt && s.at <= run.backAt);
  const max = (pick: (s: Sample) => number) => Math.max(0, ...during.map(pick));
  return `at most ${max((s) => s.inUse)} primary-pool connections in use and ${max((s) => s.waiting)} requests waiting for one (all instances; ${during.length} of ${during.length + run.incomplete} scrapes of the fault answered by every instance within 2 s)`;
}

/**
 * Read-your-writes under lag: a user posts, then at once reads their feed (a lag-tolerant read)
 * through nginx (either instance); the post must be in it. Counted in `ryw`.
 */
const ryw = { probes: 0, stale: 0, failed: 0 };
async function rywProbe(w: World, i: number): Promise<void> {
  const user = w.users[(i * 5 + 3) % w.users.length]!;
  ryw.probes++;
  try {
    const made = await w.client.call(
      'POST',
      '/api/v1/posts',
      user.token,
      { text: `ryw probe ${i}`, visibility: 'friends' },
      AbortSignal.timeout(10_000),
    );
    if (made.status !== 201) {
      ryw.failed++;
      return;
    }
    const { id } = JSON.parse(made.body) as { id: string };
    w.createdPosts.push({ id, token: user.token });
    const feed = await w.client.call(
      'GET',
      '/api/v1/feed',
      user.token,
      undefined,
      AbortSignal.timeout(10_000),
    );
    if (feed.status !== 200) ryw.failed++;
    else if (!feed.body.includes(id)) ryw.stale++;
  } catch {
    ryw.failed++;
  }
}

/** PgBouncer's server connections for one database: default_pool_size + reserve_pool_size of the shipped pooling settings. */
function bouncerPoolSize(): number {
  const ini = readFileSync(join(ROOT, 'deploy/pgbouncer/kith-pooling.ini'), 'utf8');
  const value = (key: string) => Number(new RegExp(`^${key}\\s*=\\s*(\\d+)`, 'm').exec(ini)?.[1] ?? 0);
  return value('default_pool_size') + value('reserve_pool_size');
}
const STORM_SECONDS = 12;
const STORM_MARK = 'kith-drill-storm';

const drills: Drill[] = [
  {
    name: 'kill-instance',
    promise: 'kith-1 kill -9: nginx retries what is safe, sockets reconnect to kith-2 and resume with no gap',
    run: async (c) => {
      await c.control({ action: 'signal', name: 'kith-1', signal: 'SIGKILL' });
      await sleep(10_000);
      await c.control({ action: 'start', name: 'kith-1' });
    },
  },
  {
    name: 'rolling-restart',
    promise: 'both instances restarted one after the other (SIGTERM, drain, 1012): 0 failed requests',
    zeroErrors: true,
    seconds: 100,
    run: async (c) => {
      for (const name of ['kith-1', 'kith-2']) {
        await c.control({ action: 'stop', name });
        await c.control({ action: 'start', name });
        // nginx's passive health check (max_fails=3 fail_timeout=10s in deploy/nginx/upstreams)
        // leaves a refused instance out for fail_timeout even once it is back: stopping the next
        // one sooner leaves no live upstream (502). The pause is part of the rolling procedure.
        await sleep(12_000);
      }
    },
  },
  {
    name: 'redis-kill',
    promise: 'Redis kill -9, back after 5 s: Kith degrades (in-process fallbacks) and recovers',
    failFast: true,
    run: async (c) => {
      await c.control({ action: 'signal', name: 'redis', signal: 'SIGKILL' });
      await sleep(5_000);
      await c.control({ action: 'start', name: 'redis' });
    },
  },
  {
    name: 'redis-stop',
    promise: 'Redis SIGSTOP 15 s then SIGCONT (a hang): Redis calls time out fast, nothing piles up',
    failFast: true,
    run: async (c) => {
      await c.control({ action: 'signal', name: 'redis', signal: 'SIGSTOP' });
      await sleep(15_000);
      await c.control({ action: 'signal', name: 'redis', signal: 'SIGCONT' });
    },
  },
  {
    name: 'pg-primary-restart',
    promise: 'PostgreSQL primary restart: requests fail fast (503 + Retry-After) or succeed, never hang',
    failFast: true,
    run: async (c) => {
      await c.control({ action: 'pg', which: 'primary', op: 'restart' });
    },
  },
  {
    name: 'replica-stop',
    promise: 'replica stopped 15 s: lag-tolerant reads move to the primary, no errors',
    failFast: true,
    run: async (c) => {
      await c.control({ action: 'pg', which: 'replica', op: 'stop' });
      await sleep(15_000);
      await c.control({ action: 'pg', which: 'replica', op: 'start' });
    },
  },
  {
    name: 'pgbouncer-restart',
    promise: 'PgBouncer stopped and started: requests fail fast or succeed, recovery measured',
    failFast: true,
    run: async (c) => {
      await c.control({ action: 'stop', name: 'pgbouncer', signal: 'SIGINT' });
      await c.control({ action: 'start', name: 'pgbouncer' });
    },
  },
  {
    name: 'worker-kill',
    promise: 'worker kill -9 mid-job, back after 5 s: jobs retried, no duplicate effect',
    run: async (c) => {
      await c.control({ action: 'signal', name: 'kith-worker', signal: 'SIGKILL' });
      await sleep(5_000);
      await c.control({ action: 'start', name: 'kith-worker' });
    },
    check: async (c, w) => {
      // every comment notification once (subject_id is the post, data.commentId the comment); every post made during the drill fanned out
      const dup = psql(
        c,
        "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE kind = 'comment' GROUP BY user_id, data->>'commentId' HAVING count(*) > 1) d",
      );
      const ids =
        w.createdPosts.map((p) => `'${p.id}'`).join(',') || "'00000000-0000-0000-0000-000000000000'";
      const unfanned = psql(
        c,
        `SELECT count(*) FROM posts p WHERE p.id IN (${ids}) AND NOT EXISTS (SELECT 1 FROM feed_entries f WHERE f.post_id = p.id AND f.user_id <> p.author_id)`,
      );
      if (dup !== '0' || unfanned !== '0')
        return `${dup} duplicated comment notifications, ${unfanned} posts never fanned out`;
      return undefined;
    },
  },
  {
    name: 'pg-latency',
    promise:
      '200 ms added to every round trip between PgBouncer and the PostgreSQL primary for 20 s (its answers held back, as netem on its link would): requests slow down but every one ends within 5 s (nothing piles up), errors stay within the SLO budget (0.1 %), and the median is back near the baseline once the delay is gone',
    boundMs: HANG_MS,
    errorBudget: 0.001,
    latencyRecovers: true,
    sample: true,
    needs: (c) =>
      c.dbLink
        ? undefined
        : 'this cluster has no db link: start it with `npm run cluster -- --load --db-link` (or let npm run drills start its own)',
    run: async (c) => {
      undo.set('db link delay', () => c.control({ action: 'link', delayMs: '0' }));
      await c.control({ action: 'link', delayMs: '200' });
      await sleep(20_000);
      await c.control({ action: 'link', delayMs: '0' });
      undo.delete('db link delay');
    },
    check: async (_c, _w, run) => {
      run.notes.push(`while delayed: ${poolUse(run)}`);
      return undefined;
    },
  },
  {
    name: 'slow-query-storm',
    promise: `a storm of slow queries: as many sessions as PgBouncer has server connections for the primary (default_pool_size + reserve_pool_size) each run a ${STORM_SECONDS} s statement through it, so Kith's own statements find no connection: what needs the primary is refused fast (503 + Retry-After, a retryable chat error; no answer takes 5 s or more), lag-tolerant reads go on, full recovery once the storm ends`,
    boundMs: HANG_MS,
    shedOnly: true,
    sample: true,
    run: async (c) => {
      const userlist = readFileSync(join(DIR, 'pgbouncer/userlist.txt'), 'utf8');
      const password = /"kith" "([^"]+)"/.exec(userlist)?.[1];
      const pooled = c.state().urls.pgbouncer;
      if (!password || !pooled) throw new Error('no PgBouncer URL or password in the cluster directory');
      const clients = Array.from(
        { length: bouncerPoolSize() },
        () => new pg.Client({ connectionString: pooled.replace('***', encodeURIComponent(password)) }),
      );
      const cancel = () =>
        psql(
          c,
          `SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%${STORM_MARK}%' AND pid <> pg_backend_pid()`,
        );
      undo.set('storm', async () => {
        cancel();
        await Promise.all(clients.map((k) => k.end().catch(() => {})));
      });
      for (const k of clients) k.on('error', () => {});
      await Promise.all(clients.map((k) => k.connect()));
      const started = performance.now();
      const queries = clients.map((k) =>
        k.query(`SELECT pg_sleep(${STORM_SECONDS}) /* ${STORM_MARK} */`).then(
          () => 'done',
          (err: Error) => err.message,
        ),
      );
      const outcomes = await Promise.all(queries);
      const done = outcomes.filter((o) => o === 'done').length;
      say(
        `     storm: ${clients.length} sessions, ${done} slept the full ${STORM_SECONDS} s, over after ${((performance.now() - started) / 1000).toFixed(1)} s${done < clients.length ? `; others: ${[...new Set(outcomes.filter((o) => o !== 'done'))].join('; ')}` : ''}`,
      );
      await undo.get('storm')?.();
      undo.delete('storm');
    },
    check: async (_c, _w, run) => {
      // feed pages are the lag-tolerant reads (the replica's): do they go on while the primary is stormed?
      const feeds = run.timeline.filter(
        (o) => o.kind === 'feed' && o.at >= run.faultAt && o.at <= run.backAt,
      );
      const served = feeds.filter((o) => o.ok).map((o) => o.ms);
      run.notes.push(
        `during the storm: ${served.length} of ${feeds.length} feed reads answered (p50 ${pct(served, 50)} ms, slowest ${Math.round(Math.max(0, ...served))} ms); ${poolUse(run)}`,
      );
      return undefined;
    },
  },
  {
    name: 'replica-lag',
    promise:
      'replay paused on the replica for 15 s (pg_wal_replay_pause) under load: once its lag passes the bound, lag-tolerant reads move to the primary (kith_db_reads_total{pool="primary",reason="lag"}), a user reading their feed right after posting always sees the post (read-your-writes, probed every second), and after pg_wal_replay_resume reads are back on the replica',
    failFast: true,
    sample: true,
    run: async (c, w) => {
      ryw.probes = 0;
      ryw.stale = 0;
      ryw.failed = 0;
      undo.set('replay', () => psql(c, 'SELECT pg_wal_replay_resume()', 'replica'));
      psql(c, 'SELECT pg_wal_replay_pause()', 'replica');
      const end = performance.now() + 15_000;
      for (let i = 0; performance.now() < end; i++) {
        await rywProbe(w, i);
        await sleep(1_000);
      }
      psql(c, 'SELECT pg_wal_replay_resume()', 'replica');
      healedAt = performance.now();
      undo.delete('replay');
      // and right after the resume, while the replica catches up
      for (let i = 100; i < 105; i++) await rywProbe(w, i);
    },
    check: async (_c, _w, run) => {
      const { samples, faultAt, backAt } = run;
      const bound = samples.find((s) => s.boundMs > 0)?.boundMs ?? 0;
      const paused = samples.filter((s) => s.at >= faultAt && s.at <= backAt);
      const maxLag = Math.max(0, ...paused.map((s) => s.lagMs));
      const overBound = paused.filter((s) => s.lagMs > bound);
      const moved = readsBetween(sampleAt(samples, faultAt), sampleAt(samples, backAt), 'primary/lag');
      // replica reads while every scrape of the interval saw the lag over the bound (the router decides on its last probe)
      let onReplicaOverBound = 0;
      for (let k = 1; k < paused.length; k++)
        if (paused[k - 1]!.lagMs > bound && paused[k]!.lagMs > bound)
          onReplicaOverBound += readsBetween(paused[k - 1], paused[k], 'replica/replica');
      const after = samples.filter((s) => s.at > backAt);
      const base = sampleAt(samples, backAt);
      const back = after.find((s) => readsBetween(base, s, 'replica/replica') > 0);
      run.notes.push(
        `replica lag up to ${(maxLag / 1000).toFixed(1)} s (bound ${(bound / 1000).toFixed(1)} s, over it in ${overBound.length} of ${paused.length} scrapes); ` +
          `${moved} reads moved to the primary for lag, ${onReplicaOverBound} served by the replica while over the bound; ` +
          `back on the replica ${back ? `${((back.at - backAt) / 1000).toFixed(1)} s after the resume` : 'not within the run'}; ` +
          `read-your-writes probes ${ryw.probes}: ${ryw.stale} stale, ${ryw.failed} failed`,
      );
      const why: string[] = [];
      if (maxLag <= bound) why.push(`the lag never passed the bound (${maxLag} ms ≤ ${bound} ms)`);
      if (moved === 0) why.push('no read moved to the primary for lag');
      if (!back) why.push('reads not back on the replica after the resume');
      if (ryw.stale) why.push(`${ryw.stale} read-your-writes reads were stale`);
      if (ryw.failed) why.push(`${ryw.failed} read-your-writes probes failed`);
      return why.length ? why.join('; ') : undefined;
    },
  },
  {
    name: 'media-full',
    promise:
      "the media store's disk full (a full tmpfs under s3rver's bucket): uploads answer a clear 507/503, the rest of Kith unaffected, uploads work again once there is room",
    run: async (c) => {
      const bucket = join(DIR, 's3/kith-media');
      mediaAnswers.before = [await upload(c, mediaToken)];
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', bucket]);
      try {
        // fill it: dd stops at ENOSPC (and says so)
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${join(bucket, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
        } catch {
          // ENOSPC: full, as wanted
        }
        for (let i = 0; i < 5; i++) mediaAnswers.full.push(await upload(c, mediaToken));
        await sleep(5_000);
      } finally {
        // lazily: s3rver may still hold a file open there; the mount never outlives the drill
        execFileSync('umount', ['-l', bucket]);
      }
      // s3rver (not S3) dies on ENOSPC: its file store leaves a write stream's error unhandled. The
      // store coming back is the heal (as an S3 outage ends); Kith must then work by itself.
      const { s3rver } = await c.control({ action: 'pids' });
      mediaAnswers.s3rverDied = s3rver === undefined;
      if (mediaAnswers.s3rverDied) await c.control({ action: 'start', name: 's3rver' });
      mediaAnswers.after = [await upload(c, mediaToken)];
    },
    check: async () => {
      const clear = mediaAnswers.full.every((a) => /^(507|503) [A-Z_]+$/.test(a));
      const summary = `uploads before ${mediaAnswers.before.join(', ')}; disk full ${mediaAnswers.full.join(', ')}; after ${mediaAnswers.after.join(', ')}${mediaAnswers.s3rverDied ? ' (s3rver died on ENOSPC and was started again)' : ''}`;
      say(`     media: ${summary}`);
      if (!clear || !mediaAnswers.before[0]?.startsWith('202') || !mediaAnswers.after[0]?.startsWith('202'))
        return `not a clear 507/503 while full, or uploads not working around it: ${summary}`;
      return undefined;
    },
  },
];

/** A 1×1 PNG: the smallest image Kith accepts. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** POST /api/v1/media with one file part, as the web app uploads; the answer's status and code. */
async function upload(c: ClusterHandle, token: string): Promise<string> {
  const boundary = `kith${Date.now()}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="p.png"\r\ncontent-type: image/png\r\n\r\n`,
    ),
    PNG,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const { request } = await import('node:https');
  return new Promise((ok) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(new URL(ORIGIN).port),
        path: '/api/v1/media',
        method: 'POST',
        ca: c.ca,
        servername: 'localhost',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': body.length,
        },
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => {
          const code = /"code":"([A-Z_]+)"/.exec(text)?.[1];
          ok(`${res.statusCode}${code ? ` ${code}` : ''}`);
        });
      },
    );
    req.on('error', (err) => ok(`transport ${err.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

/** What the media-full drill saw (set by its run, read by its check). */
const mediaAnswers: { before: string[]; full: string[]; after: string[]; s3rverDied?: boolean } = {
  before: [],
  full: [],
  after: [],
};
let mediaToken = '';

interface DrillResult {
  name: string;
  promise: string;
  pass: boolean;
  why: string[];
  rate: number;
  arrivals: number;
  errors: number;
  errorRate: number;
  fault: {
    arrivals: number;
    errors: number;
    errorRate: number;
    /** Answered arrivals of the fault window: how slow they were. */
    p50Ms?: number;
    p99Ms?: number;
    /** The longest arrival of the fault window, answered or not. */
    maxMs?: number;
    /** Failures that were refusals saying when to retry (503 + Retry-After, retryable chat errors). */
    sheds?: number;
  };
  /** Median of the answered arrivals from 5 s after the heal to the end. */
  afterP50Ms?: number;
  /** What the drill's check measured besides (metrics, probes), for the report. */
  notes?: string[];
  /** The faulted component back (ms after the fault). */
  componentBackMs: number;
  /** Users fully served again: the end of the last failed arrival after the fault (ms after it). */
  recoveryMs: number;
  hangs: number;
  p50Ms: number;
  p99Ms: number;
  errorKinds: Record<string, number>;
  chat: Awaited<ReturnType<typeof verify>>['chat'];
  posts: Awaited<ReturnType<typeof verify>>['posts'];
  sockets: { reconnects: number; closeCodes: Record<string, number> };
  loadAverage: [number, number, number];
  baseline: { p50Ms: number; p99Ms: number; errorRate: number; loadAverage: [number, number, number] };
  extra?: string;
}

const pct = (values: number[], p: number) => {
  if (!values.length) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 10) / 10;
};

async function runDrill(c: ClusterHandle, drill: Drill): Promise<DrillResult> {
  const world = await makeWorld(c.ca, 30, 8);
  try {
    // the same-run baseline: the same mix, same rate, no fault
    const baseTimeline: Outcome[] = [];
    const b0 = performance.now();
    await openLoop({
      name: `${drill.name} baseline`,
      ratePerSecond: RATE,
      durationSeconds: 8,
      timeoutMs: 10_000,
      work: mix(world, baseTimeline, () => performance.now() - b0),
    });
    const baseOk = baseTimeline.filter((o) => o.ok).map((o) => o.ms);
    const baselineP50 = pct(baseOk, 50);
    const baseline = {
      p50Ms: baselineP50,
      p99Ms: pct(baseOk, 99),
      errorRate: baseTimeline.length ? baseTimeline.filter((o) => !o.ok).length / baseTimeline.length : 0,
      loadAverage: load(),
    };

    const timeline: Outcome[] = [];
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const loadRun = openLoop({
      name: drill.name,
      ratePerSecond: RATE,
      durationSeconds: drill.seconds ?? SECONDS,
      timeoutMs: 10_000,
      work: mix(world, timeline, now),
    });
    mediaToken = world.users[0]!.token;
    const samples: Sample[] = [];
    let sampling = drill.sample;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await scrape(c, now()));
        await sleep(1_000);
      }
    })();
    await sleep(FAULT_AT_MS);
    const faultAt = now();
    healedAt = undefined;
    let extra: string | undefined;
    try {
      await drill.run(c, world);
    } catch (err) {
      extra = `fault injection failed: ${(err as Error).message}`;
    } finally {
      await undoAll();
    }
    const backAt = healedAt === undefined ? now() : healedAt - t0;
    const result = await loadRun;
    sampling = false;
    await sampler;
    const verdict = await verify(world);
    const notes: string[] = [];
    if (drill.check)
      extra =
        (await drill
          .check(c, world, {
            samples: samples.filter((x) => x.answered === x.of),
            incomplete: samples.filter((x) => x.answered < x.of && x.at >= faultAt && x.at <= backAt).length,
            faultAt,
            backAt,
            timeline,
            notes,
          })
          .catch((e: Error) => e.message)) ?? extra;

    const stalled = samples.filter((x) => x.answered < x.of && x.at >= faultAt && x.at <= backAt).length;
    if (stalled)
      notes.push(
        `${stalled} of the fault's scrapes of /metrics not answered within 2 s by every instance (its collectors read the job and media queues from the primary at scrape time)`,
      );
    const failures = timeline.filter((o) => !o.ok);
    const inFault = timeline.filter((o) => o.at >= faultAt && o.at <= backAt + 5_000);
    const lastFailureEnd = Math.max(
      faultAt,
      ...failures.filter((o) => o.at >= faultAt).map((o) => o.at + o.ms),
    );
    const endOfRun = (drill.seconds ?? SECONDS) * 1000;
    const recovered = !failures.some((o) => o.at > endOfRun - 8_000);
    const hangs = failures.filter((o) => o.ms >= HANG_MS).length;
    const ok = timeline.filter((o) => o.ok).map((o) => o.ms);
    const faultOk = inFault.filter((o) => o.ok).map((o) => o.ms);
    const faultErrors = inFault.filter((o) => !o.ok);
    const sheds = faultErrors.filter((o) => o.retryAfter && (o.status === 503 || o.kind === 'chat')).length;
    const slow = inFault.filter((o) => drill.boundMs !== undefined && o.ms >= drill.boundMs).length;
    const afterP50 = pct(
      timeline.filter((o) => o.ok && o.at >= backAt + 5_000).map((o) => o.ms),
      50,
    );
    const why: string[] = [];
    if (verdict.chat.lost) why.push(`${verdict.chat.lost} acknowledged chat messages lost`);
    if (verdict.chat.duplicated) why.push(`${verdict.chat.duplicated} chat messages duplicated`);
    if (verdict.chat.gaps) why.push(`${verdict.chat.gaps} seqs missing from a member's copy`);
    if (verdict.posts.lost) why.push(`${verdict.posts.lost} acknowledged posts lost`);
    if (!recovered) why.push('still failing in the last 8 s of the run');
    if (drill.zeroErrors && failures.length) why.push(`${failures.length} failed requests (0 allowed)`);
    if (drill.failFast && hangs) why.push(`${hangs} requests hung ≥ ${HANG_MS} ms`);
    if (drill.boundMs !== undefined && slow)
      why.push(`${slow} arrivals of the fault window took ≥ ${drill.boundMs} ms (answered or not)`);
    if (
      drill.errorBudget !== undefined &&
      inFault.length &&
      faultErrors.length / inFault.length > drill.errorBudget
    )
      why.push(
        `errors during the fault ${((100 * faultErrors.length) / inFault.length).toFixed(2)} % > the budget ${(drill.errorBudget * 100).toFixed(1)} %`,
      );
    if (drill.shedOnly && sheds < faultErrors.length)
      why.push(
        `${faultErrors.length - sheds} failures during the fault were not a 503 + Retry-After (or a retryable chat refusal)`,
      );
    if (drill.latencyRecovers) {
      const limit = Math.max(2 * baselineP50, baselineP50 + 50);
      if (!(afterP50 <= limit))
        why.push(
          `median ${afterP50} ms from 5 s after the heal, not back near the baseline's ${baselineP50} ms (≤ ${limit} ms)`,
        );
    }
    if (extra) why.push(extra);
    const sockets = { reconnects: 0, closeCodes: {} as Record<string, number> };
    for (const m of world.pairs.flatMap((p) => [p.a, p.b])) {
      sockets.reconnects += m.reconnects;
      for (const [code, n] of Object.entries(m.closeCodes))
        sockets.closeCodes[code] = (sockets.closeCodes[code] ?? 0) + n;
    }
    const errorKinds: Record<string, number> = {};
    for (const f of failures) {
      const k =
        `${f.kind}: ${f.status && f.code ? `${f.status} ${f.code}${f.retryAfter ? ' + Retry-After' : ''}` : f.error}`.slice(
          0,
          90,
        );
      if (k in errorKinds || Object.keys(errorKinds).length < 8) errorKinds[k] = (errorKinds[k] ?? 0) + 1;
    }
    return {
      name: drill.name,
      promise: drill.promise,
      pass: why.length === 0,
      why,
      rate: RATE,
      arrivals: result.arrivals,
      errors: failures.length,
      errorRate: result.arrivals ? failures.length / result.arrivals : 0,
      fault: {
        arrivals: inFault.length,
        errors: faultErrors.length,
        errorRate: inFault.length ? faultErrors.length / inFault.length : 0,
        p50Ms: pct(faultOk, 50),
        p99Ms: pct(faultOk, 99),
        maxMs: Math.round(Math.max(0, ...inFault.map((o) => o.ms))),
        sheds,
      },
      afterP50Ms: afterP50,
      notes,
      componentBackMs: Math.round(backAt - faultAt),
      recoveryMs: Math.round(lastFailureEnd - faultAt),
      hangs,
      p50Ms: pct(ok, 50),
      p99Ms: pct(ok, 99),
      errorKinds,
      chat: verdict.chat,
      posts: verdict.posts,
      sockets,
      loadAverage: load(),
      baseline,
    };
  } finally {
    world.close();
  }
}

async function main(): Promise<number> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const chosen = only.length ? drills.filter((d) => only.includes(d.name)) : drills;
  if (chosen.length === 0) throw new Error(`no such drill; drills: ${drills.map((d) => d.name).join(', ')}`);
  say(
    `npm run drills — ${cpus().length} cores, load average ${load().join(' ')}; mix at ${RATE}/s for ${SECONDS} s per drill, fault at ${FAULT_AT_MS / 1000} s`,
  );
  // a cluster started here has the db link (pg-latency's delay), whichever drills were chosen
  const cluster = await ensureCluster({ dbLink: true });
  active = cluster;
  const results: DrillResult[] = [];
  const skipped: string[] = [];
  const file = join(
    ROOT,
    `bench/results/drills-${new Date().toISOString().slice(0, 10)}${process.env.BENCH_LABEL ? `-${process.env.BENCH_LABEL}` : ''}.json`,
  );
  // drills run one at a time (`npm run drills -- name`) add to the day's file, replacing their own entry
  const earlier: DrillResult[] = existsSync(file)
    ? (JSON.parse(await readFile(file, 'utf8')) as { results: DrillResult[] }).results
    : [];
  const save = async () => {
    const names = new Set(results.map((r) => r.name));
    const all = [...earlier.filter((r) => !names.has(r.name)), ...results];
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, rate: RATE, seconds: SECONDS, results: all }, null, 2)}\n`,
    );
  };
  try {
    for (const drill of chosen) {
      say(`\n── ${drill.name}: ${drill.promise}`);
      const cannot = drill.needs?.(cluster);
      if (cannot) {
        // not a verdict: the run could not be made (exit 2 unless another drill failed)
        say(`SKIP ${drill.name}: ${cannot}`);
        skipped.push(drill.name);
        continue;
      }
      const r = await runDrill(cluster, drill);
      results.push(r);
      await save();
      say(
        `${r.pass ? 'PASS' : 'FAIL'} ${r.name}  errors during the fault ${(r.fault.errorRate * 100).toFixed(2)} % (${r.fault.errors}/${r.fault.arrivals}), ` +
          `whole run ${(r.errorRate * 100).toFixed(2)} % (${r.errors}/${r.arrivals}); component back after ${(r.componentBackMs / 1000).toFixed(1)} s, ` +
          `full recovery after ${(r.recoveryMs / 1000).toFixed(1)} s; p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms ` +
          `(baseline p50 ${r.baseline.p50Ms} ms p99 ${r.baseline.p99Ms} ms, load ${r.baseline.loadAverage.join(' ')}); load average ${r.loadAverage.join(' ')}`,
      );
      say(
        `     chat: ${r.chat.acked} acknowledged, ${r.chat.stored} stored, lost ${r.chat.lost}, duplicated ${r.chat.duplicated}, gaps ${r.chat.gaps}; ` +
          `posts: ${r.posts.created} acknowledged, lost ${r.posts.lost}; sockets reconnected ${r.sockets.reconnects} (close codes ${JSON.stringify(r.sockets.closeCodes)})`,
      );
      if (r.fault.p50Ms !== undefined)
        say(
          `     during the fault: p50 ${r.fault.p50Ms} ms p99 ${r.fault.p99Ms} ms, longest ${r.fault.maxMs} ms, ${r.fault.sheds} of ${r.fault.errors} failures a 503 + Retry-After / retryable refusal; p50 from 5 s after the heal ${r.afterP50Ms} ms`,
        );
      for (const note of r.notes ?? []) say(`     ${note}`);
      if (r.errors) say(`     errors: ${JSON.stringify(r.errorKinds)}`);
      if (r.why.length) say(`     why: ${r.why.join('; ')}`);
      if (r.chat.problems.length) say(`     chat problems: ${r.chat.problems.join('; ')}`);
    }
  } finally {
    await cluster.stop();
  }
  const failed = results.filter((r) => !r.pass).map((r) => r.name);
  say(
    `\n${failed.length ? `drills failed: ${failed.join(', ')}` : 'every drill run passed'}${skipped.length ? `; not run here: ${skipped.join(', ')}` : ''} (${file})`,
  );
  return failed.length ? 1 : skipped.length ? 2 : 0;
}

let code = 2;
let active: ClusterHandle | undefined;
const interrupted = () => {
  say('interrupted: undoing the fault, stopping …');
  void undoAll()
    .then(() => active?.stop())
    .finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);
try {
  code = await main();
} catch (err) {
  process.stderr.write(`drills: ${(err as Error).stack ?? err}\n`);
}
process.exit(code);
