/**
 * `npm run capacity` — the highest arrival rate of the day-in-the-life mix the scaled shape
 * sustains here with its SLO (docs/slo.md's `mix` row: p95, p99, errors), by a step search: from
 * CAPACITY_START (default 10/s) up ×1.5 until a step misses, then one bisection; each step runs
 * CAPACITY_STEP_SECONDS (default 20) after a same-rate bare baseline (GET /livez through the same
 * nginx and instances). CPU per component (its process tree, from /proc) is measured in each step:
 * the bottleneck named is the component using the most CPU in the first step that missed, next to
 * how busy the whole machine was (the other engineers' work included). 127.0.0.1 only.
 * Results: bench/results/capacity-<date>.json (its `best` is what `npm run soak` halves).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type ClusterHandle,
  ensureCluster,
  load,
  makeWorld,
  mix,
  type Outcome,
  ROOT,
  say,
  sleep,
} from './lib/cluster-load.ts';
import { stepSearch } from './lib/verify.ts';
import { expectStatus, openLoop } from './load-driver.ts';

const START = Number(process.env.CAPACITY_START ?? 10);
const STEP_S = Number(process.env.CAPACITY_STEP_SECONDS ?? 20);
const MAX = Number(process.env.CAPACITY_MAX ?? 400);
const TICK = 100; // USER_HZ

/** CPU ticks (user + system) of every process, with its parent and command name. */
function cpuTable() {
  const table = new Map<number, { ppid: number; ticks: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime (children that ended count too: pg backends come and go)
      table.set(Number(entry), {
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
        comm,
      });
    } catch {
      // gone
    }
  }
  return table;
}

function treeTicks(table: ReturnType<typeof cpuTable>, pid: number): number {
  let ticks = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    ticks += table.get(p)?.ticks ?? 0;
    for (const [child, info] of table) if (info.ppid === p) stack.push(child);
  }
  return ticks;
}

/** Busy and total jiffies of the whole machine. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}

async function objective() {
  const text = readFileSync(join(ROOT, 'docs/slo.md'), 'utf8');
  const m = /^\| `mix` \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$/m.exec(text);
  if (!m) throw new Error('docs/slo.md has no `mix` row');
  return { p95Ms: Number(m[2]), p99Ms: Number(m[3]), errorsPercent: Number(m[4]) };
}

async function main(): Promise<number> {
  const slo = await objective();
  say(
    `npm run capacity — ${cpus().length} cores, load average ${load().join(' ')}; mix steps of ${STEP_S} s from ${START}/s (×1.5, then bisect); SLO p95 ≤ ${slo.p95Ms} ms, p99 ≤ ${slo.p99Ms} ms, errors ≤ ${slo.errorsPercent} %`,
  );
  const cluster = await ensureCluster();
  active = cluster;
  const world = await makeWorld(cluster.ca, 40, 10);
  const steps: unknown[] = [];
  try {
    const probe = async (rate: number) => {
      const baseline = await openLoop({
        name: 'baseline',
        ratePerSecond: rate,
        durationSeconds: 5,
        timeoutMs: 10_000,
        work: async (_i, signal) => {
          expectStatus(await world.client.call('GET', '/livez', undefined, undefined, signal), 200, 'livez');
        },
      });
      const pids = await cluster.control({ action: 'pids' });
      const before = cpuTable();
      const mBefore = machineTicks();
      const driverBefore = process.cpuUsage();
      const timeline: Outcome[] = [];
      const t0 = performance.now();
      const result = await openLoop({
        name: `mix ${rate}/s`,
        ratePerSecond: rate,
        durationSeconds: STEP_S,
        timeoutMs: 10_000,
        maxInFlight: 2_000,
        work: mix(world, timeline, () => performance.now() - t0),
      });
      const seconds = (performance.now() - t0) / 1000;
      const after = cpuTable();
      const mAfter = machineTicks();
      const cpu: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids))
        cpu[name] =
          Math.round(((treeTicks(after, pid) - treeTicks(before, pid)) / TICK / seconds) * 1000) / 10;
      const clusterCpu = Object.values(cpu).reduce((a, b) => a + b, 0);
      // the load driver (this process: TLS client, sockets) competes for the same 2 cores
      const driver = process.cpuUsage(driverBefore);
      const driverCpu = Math.round(((driver.user + driver.system) / 1e6 / seconds) * 1000) / 10;
      const machineBusy =
        Math.round(((mAfter.busy - mBefore.busy) / (mAfter.total - mBefore.total)) * cpus().length * 1000) /
        10;
      const pass =
        result.ok > 0 &&
        result.p95Ms <= slo.p95Ms &&
        result.p99Ms <= slo.p99Ms &&
        result.errorRate * 100 <= slo.errorsPercent;
      const top = Object.entries(cpu).sort((a, b) => b[1] - a[1]);
      steps.push({
        rate,
        pass,
        result,
        baseline,
        cpuPercent: cpu,
        clusterCpuPercent: clusterCpu,
        driverCpuPercent: driverCpu,
        machineBusyPercent: machineBusy,
      });
      say(
        `${pass ? 'PASS' : 'MISS'} ${String(rate).padStart(4)}/s  p50 ${result.p50Ms} ms p95 ${result.p95Ms} ms p99 ${result.p99Ms} ms errors ${(result.errorRate * 100).toFixed(2)} %` +
          `  (baseline /livez p50 ${baseline.p50Ms} ms p99 ${baseline.p99Ms} ms)  load average ${result.loadAverage.join(' ')}`,
      );
      say(
        `           CPU % of one core: ${top.map(([n, v]) => `${n} ${v}`).join(', ')}; cluster ${Math.round(clusterCpu)} %, load driver ${driverCpu} %, machine busy ${machineBusy} % of ${cpus().length * 100} %`,
      );
      if (result.errors) say(`           errors: ${JSON.stringify(result.errorKinds)}`);
      await sleep(3_000);
      return pass;
    };
    const search = await stepSearch(START, probe, { factor: 1.5, max: MAX, refine: 1 });
    const firstMiss = (steps as { pass: boolean; rate: number; cpuPercent: Record<string, number> }[]).find(
      (s) => !s.pass,
    );
    const bottleneck = firstMiss
      ? Object.entries(firstMiss.cpuPercent).sort((a, b) => b[1] - a[1])[0]
      : undefined;
    say('');
    say(
      search.best === undefined
        ? `capacity: not even ${START}/s held the SLO here (load average ${load().join(' ')})`
        : `capacity: ${search.best}/s of the mix within SLO on this machine (load average ${load().join(' ')})`,
    );
    if (bottleneck)
      say(
        `bottleneck at ${firstMiss!.rate}/s: ${bottleneck[0]} (${bottleneck[1]} % of a core) — the largest CPU user of the cluster when the SLO was missed`,
      );
    const file = join(ROOT, `bench/results/capacity-${new Date().toISOString().slice(0, 10)}.json`);
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, slo, stepSeconds: STEP_S, best: search.best, bottleneck: bottleneck && { component: bottleneck[0], cpuPercent: bottleneck[1], atRate: firstMiss!.rate }, steps }, null, 2)}\n`,
    );
    say(`(${file})`);
    return 0;
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
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);
try {
  code = await main();
} catch (err) {
  process.stderr.write(`capacity: ${(err as Error).stack ?? err}\n`);
}
process.exit(code);
