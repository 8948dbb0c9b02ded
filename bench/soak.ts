/**
 * `npm run soak` — the day-in-the-life mix at half the capacity figure (the newest
 * bench/results/capacity-*.json; SOAK_RATE overrides, 10/s without either) for SOAK_SECONDS
 * (default 600) against the scaled shape, sampling every SOAK_SAMPLE_SECONDS (default 10): RSS and
 * private memory per component (its process and children; the leak verdict is on private memory),
 * open file descriptors, server-side database
 * connections (pg_stat_activity on the primary), Redis memory (INFO), each instance's event-loop
 * delay p99 (its /metrics). Prints each series' slope per 10 minutes (least squares, the first
 * minute left out as warm-up) and a flat/leak verdict; exits 1 on a leak. 127.0.0.1 only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type ClusterHandle,
  DIR,
  ensureCluster,
  latestResult,
  load,
  makeWorld,
  mix,
  type Outcome,
  ROOT,
  say,
  sleep,
} from './lib/cluster-load.ts';
import { slope } from './lib/verify.ts';
import { openLoop } from './load-driver.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10);
const WARMUP_S = Math.min(60, SECONDS / 5);

function rate(): { rate: number; from: string } {
  if (process.env.SOAK_RATE) return { rate: Number(process.env.SOAK_RATE), from: 'SOAK_RATE' };
  const file = latestResult('capacity');
  if (file) {
    const best = (JSON.parse(readFileSync(file, 'utf8')) as { best?: number }).best;
    if (best) return { rate: Math.max(1, Math.round(best / 2)), from: `half of ${best}/s (${file})` };
  }
  return { rate: 10, from: 'default (no capacity result yet)' };
}

/** pid → [ppid, rss KiB] for every process. */
function processTable(): Map<number, { ppid: number; rssKb: number }> {
  const table = new Map<number, { ppid: number; rssKb: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(fields[1]), rssKb: Number(fields[21]) * 4 });
    } catch {
      // gone
    }
  }
  return table;
}

/**
 * RSS and private (anonymous) memory, MiB, of `pid` and its descendants. RSS counts every shared
 * page a process has touched (PostgreSQL's shared_buffers, once per backend), so it grows as a
 * cache warms up; a leak shows in private memory (RssAnon), which is what the verdict looks at.
 */
function treeMemory(table: Map<number, { ppid: number; rssKb: number }>, pid: number) {
  let kb = 0;
  let anonKb = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    kb += table.get(p)?.rssKb ?? 0;
    try {
      anonKb += Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
    for (const [child, info] of table) if (info.ppid === p) stack.push(child);
  }
  return { rss: Math.round((kb / 1024) * 10) / 10, anon: Math.round((anonKb / 1024) * 10) / 10 };
}

const fds = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
};

export async function sampleCluster(c: ClusterHandle): Promise<Record<string, number>> {
  const sample: Record<string, number> = {};
  const pids = await c.control({ action: 'pids' });
  const table = processTable();
  for (const [name, pid] of Object.entries(pids)) {
    const memory = treeMemory(table, pid);
    sample[`rss_mb.${name}`] = memory.rss;
    sample[`private_mb.${name}`] = memory.anon;
    if (name.startsWith('kith')) sample[`fds.${name}`] = fds(pid);
  }
  const { urls } = c.state();
  try {
    const port = new URL(urls.primary!.replace('***', 'x')).port;
    sample['db_connections.primary'] = Number(
      execFileSync(
        'psql',
        [
          '-h',
          join(DIR, 'sockets'),
          '-p',
          port,
          '-U',
          'postgres',
          '-d',
          'kith',
          '-Atc',
          "SELECT count(*) FROM pg_stat_activity WHERE datname = 'kith'",
        ],
        { encoding: 'utf8' },
      ).trim(),
    );
  } catch {
    // not answering: no sample
  }
  try {
    const redis = new URL(urls.redis!);
    const info = execFileSync(
      'redis-cli',
      ['--tls', '--cacert', urls.ca!, '-h', redis.hostname, '-p', redis.port, 'INFO', 'memory'],
      { encoding: 'utf8', timeout: 5_000 },
    );
    sample.redis_used_mb = Math.round((Number(/used_memory:(\d+)/.exec(info)?.[1]) / 1048576) * 100) / 100;
  } catch {
    // not answering
  }
  if (c.metricsToken)
    for (const [i, url] of (urls.metrics ?? '').split(' ').filter(Boolean).entries()) {
      try {
        const text = await (
          await fetch(url, {
            headers: { authorization: `Bearer ${c.metricsToken}` },
            signal: AbortSignal.timeout(5_000),
          })
        ).text();
        const name = ['kith-1', 'kith-2', 'kith-worker'][i] ?? `instance-${i}`;
        const lag = /^kith_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1];
        if (lag) sample[`event_loop_p99_ms.${name}`] = Math.round(Number(lag) * 10000) / 10;
      } catch {
        // not answering
      }
    }
  return sample;
}

/** Growth over 10 minutes that counts as a leak (when the fit is good, R² ≥ 0.5). */
function leakBound(series: string, mean: number): number {
  if (series.startsWith('rss_mb') || series.startsWith('private_mb')) return Math.max(5, mean * 0.03);
  if (series.startsWith('fds')) return 5;
  if (series.startsWith('db_connections')) return 3;
  if (series.startsWith('redis')) return Math.max(1, mean * 0.1);
  return 20; // event-loop p99, ms
}

async function main(): Promise<number> {
  const { rate: RATE, from } = rate();
  say(
    `npm run soak — ${cpus().length} cores, load average ${load().join(' ')}; mix at ${RATE}/s (${from}) for ${SECONDS} s, sampled every ${SAMPLE_S} s`,
  );
  const cluster = await ensureCluster();
  active = cluster;
  const world = await makeWorld(cluster.ca, 40, 10);
  const samples: { t: number; values: Record<string, number> }[] = [];
  try {
    const timeline: Outcome[] = [];
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    let done = false;
    const loadRun = openLoop({
      name: 'soak',
      ratePerSecond: RATE,
      durationSeconds: SECONDS,
      timeoutMs: 10_000,
      maxInFlight: 500,
      work: mix(world, timeline, now),
    }).finally(() => {
      done = true;
    });
    while (!done) {
      samples.push({ t: now() / 1000, values: await sampleCluster(cluster) });
      const last = samples[samples.length - 1]!.values;
      say(
        `t=${Math.round(now() / 1000)}s  rss kith-1 ${last['rss_mb.kith-1']} MB kith-2 ${last['rss_mb.kith-2']} MB  fds ${last['fds.kith-1']}/${last['fds.kith-2']}  db ${last['db_connections.primary']}  redis ${last.redis_used_mb} MB  loop p99 ${last['event_loop_p99_ms.kith-1']}/${last['event_loop_p99_ms.kith-2']} ms  load ${load().join(' ')}`,
      );
      for (let waited = 0; waited < SAMPLE_S * 1000 && !done; waited += 500) await sleep(500);
    }
    const result = await loadRun;
    const names = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort();
    const series = names.map((name) => {
      const points = samples.filter((s) => s.t >= WARMUP_S && Number.isFinite(s.values[name]));
      const xs = points.map((s) => s.t / 600);
      const ys = points.map((s) => s.values[name]!);
      const fit = slope(xs, ys);
      const mean = ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
      const bound = leakBound(name, mean);
      // RSS is shown, not judged: shared pages (a warming cache) grow it without a leak
      const judged = !name.startsWith('rss_mb');
      const leak = judged && ys.length >= 5 && fit.r2 >= 0.5 && fit.perUnit > bound;
      return {
        name,
        samples: ys.length,
        first: ys[0],
        last: ys[ys.length - 1],
        mean: Math.round(mean * 10) / 10,
        slopePer10Min: Math.round(fit.perUnit * 100) / 100,
        r2: Math.round(fit.r2 * 100) / 100,
        leakBound: Math.round(bound * 10) / 10,
        verdict: !judged ? 'shown' : leak ? 'LEAK' : 'flat',
      };
    });
    say('');
    say(
      `series                                   first      last    slope/10min   R²    verdict (leak when slope > bound and R² ≥ 0.5; RSS shown, private memory judged)`,
    );
    for (const s of series)
      say(
        `${s.name.padEnd(40)} ${String(s.first).padStart(8)} ${String(s.last).padStart(9)} ${String(s.slopePer10Min).padStart(12)} ${String(s.r2).padStart(6)}   ${s.verdict} (bound ${s.leakBound})`,
      );
    say(
      `load: ${result.arrivals} arrivals, errors ${(result.errorRate * 100).toFixed(2)} %, p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms; load average ${result.loadAverage.join(' ')}`,
    );
    const leaks = series.filter((s) => s.verdict === 'LEAK').map((s) => s.name);
    say(leaks.length ? `LEAK suspected: ${leaks.join(', ')}` : 'every series flat');
    const file = join(ROOT, `bench/results/soak-${new Date().toISOString().slice(0, 10)}.json`);
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, rate: RATE, rateFrom: from, seconds: SECONDS, load: result, series, samples }, null, 2)}\n`,
    );
    say(`(${file})`);
    return leaks.length ? 1 : 0;
  } finally {
    world.close();
    await cluster.stop();
  }
}

let active: ClusterHandle | undefined;
let code = 2;
const interrupted = () => {
  say('interrupted: stopping …');
  void (active?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
};
if (process.argv[1]?.endsWith('soak.ts')) {
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    code = await main();
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).stack ?? err}\n`);
  }
  process.exit(code);
}
