/**
 * `npm run drills` — fault drills against the scaled shape (`npm run cluster`), each under the
 * day-in-the-life mix at an open-loop rate (DRILL_RATE, default 10/s) for DRILL_SECONDS (default
 * 45 s; the fault comes 8 s in). Each prints a verdict, the error rate during the fault, and the
 * time to full recovery, after two verifiers: chat (every acknowledged message stored exactly once
 * and every member's socket copy holds every seq exactly once) and posts (every post answered 201
 * can be read). `npm run drills -- kill-instance redis-stop` runs only those. Uses a running cluster
 * (it must have the control channel), or starts one and stops it at the end. 127.0.0.1 only.
 * Results: bench/results/drills-<date>.json. Exits 1 when a drill fails, 2 when the run could not be made.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
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
  /** Injects the fault and heals it; resolves once the component is back. */
  run: (c: ClusterHandle) => Promise<void>;
  /** An extra check after the load (e.g. no duplicate job effects). */
  check?: (c: ClusterHandle, w: World) => Promise<string | undefined>;
}

const psql = (c: ClusterHandle, sql: string) => {
  const port = new URL(c.state().urls.primary!.replace('***', 'x')).port;
  return execFileSync(
    'psql',
    ['-h', join(DIR, 'sockets'), '-p', port, '-U', 'postgres', '-d', 'kith', '-Atc', sql],
    { encoding: 'utf8' },
  ).trim();
};

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
      mediaAnswers.after = [await upload(c, mediaToken)];
    },
    check: async () => {
      const clear = mediaAnswers.full.every((a) => /^(507|503) [A-Z_]+$/.test(a));
      const summary = `uploads before ${mediaAnswers.before.join(', ')}; disk full ${mediaAnswers.full.join(', ')}; after ${mediaAnswers.after.join(', ')}`;
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
const mediaAnswers: { before: string[]; full: string[]; after: string[] } = {
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
  fault: { arrivals: number; errors: number; errorRate: number };
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
    const baseline = {
      p50Ms: pct(baseOk, 50),
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
    await sleep(FAULT_AT_MS);
    const faultAt = now();
    let extra: string | undefined;
    try {
      await drill.run(c);
    } catch (err) {
      extra = `fault injection failed: ${(err as Error).message}`;
    }
    const backAt = now();
    const result = await loadRun;
    const verdict = await verify(world);
    if (drill.check) extra = (await drill.check(c, world).catch((e: Error) => e.message)) ?? extra;

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
    const why: string[] = [];
    if (verdict.chat.lost) why.push(`${verdict.chat.lost} acknowledged chat messages lost`);
    if (verdict.chat.duplicated) why.push(`${verdict.chat.duplicated} chat messages duplicated`);
    if (verdict.chat.gaps) why.push(`${verdict.chat.gaps} seqs missing from a member's copy`);
    if (verdict.posts.lost) why.push(`${verdict.posts.lost} acknowledged posts lost`);
    if (!recovered) why.push('still failing in the last 8 s of the run');
    if (drill.zeroErrors && failures.length) why.push(`${failures.length} failed requests (0 allowed)`);
    if (drill.failFast && hangs) why.push(`${hangs} requests hung ≥ ${HANG_MS} ms`);
    if (extra) why.push(extra);
    const sockets = { reconnects: 0, closeCodes: {} as Record<string, number> };
    for (const m of world.pairs.flatMap((p) => [p.a, p.b])) {
      sockets.reconnects += m.reconnects;
      for (const [code, n] of Object.entries(m.closeCodes))
        sockets.closeCodes[code] = (sockets.closeCodes[code] ?? 0) + n;
    }
    const errorKinds: Record<string, number> = {};
    for (const f of failures) {
      const k = `${f.kind}: ${f.error}`.slice(0, 90);
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
        errors: inFault.filter((o) => !o.ok).length,
        errorRate: inFault.length ? inFault.filter((o) => !o.ok).length / inFault.length : 0,
      },
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
  const cluster = await ensureCluster();
  active = cluster;
  const results: DrillResult[] = [];
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
      if (r.errors) say(`     errors: ${JSON.stringify(r.errorKinds)}`);
      if (r.why.length) say(`     why: ${r.why.join('; ')}`);
      if (r.chat.problems.length) say(`     chat problems: ${r.chat.problems.join('; ')}`);
    }
  } finally {
    await cluster.stop();
  }
  const failed = results.filter((r) => !r.pass).map((r) => r.name);
  say(`\n${failed.length ? `drills failed: ${failed.join(', ')}` : 'every drill passed'} (${file})`);
  return failed.length ? 1 : 0;
}

let code = 2;
let active: ClusterHandle | undefined;
const interrupted = () => {
  say('interrupted: stopping …');
  void (active?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);
try {
  code = await main();
} catch (err) {
  process.stderr.write(`drills: ${(err as Error).stack ?? err}\n`);
}
process.exit(code);
