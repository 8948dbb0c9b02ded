/**
 * `npm start` to ready (the "Kith is ready" log line) in the embedded shape: a first start on an
 * empty data dir (initdb, migrations) and a restart on the same dir, three runs each. Each start
 * is stopped as a terminal's Ctrl-C would (SIGINT to the process group); the time to stop is shown.
 *
 *   npm run bench:startup
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { baseEnv, freePort } from './lib/processes.ts';
import { median, REPO_DIR, round, table, writeResult } from './lib/report.ts';

const RUNS = 3;
const START_TIMEOUT_MS = 60_000;

interface Start {
  readyMs: number;
  /** Kith's own figure (startup_ms): startServer() to listening, without npm, Node and module loading. */
  internalMs: number | undefined;
  stopMs: number;
  /** What /readyz answered right after the ready line. */
  readyz: number;
}

const children = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) if (child.pid) process.kill(-child.pid, 'SIGINT');
    process.exit(130);
  });
}

async function startOnce(dataDir: string): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: REPO_DIR,
    env: { ...baseEnv(), DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, as a terminal would start it
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stoppedCleanly = false;
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const ready = new Promise<{ readyMs: number; internalMs: number | undefined }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    exited.then(() => reject(new Error(`npm start exited before ready: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; startup_ms?: number };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === 'stopped') stoppedCleanly = true;
      if (entry.msg?.startsWith('Kith is ready')) {
        clearTimeout(timer);
        resolve({ readyMs: performance.now() - started, internalMs: entry.startup_ms });
      }
    });
  });
  try {
    const { readyMs, internalMs } = await ready;
    // recorded, not fatal: the figure is time to the ready line; a bad /readyz is reported with it
    const readyz = (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
    const stopping = performance.now();
    process.kill(-child.pid!, 'SIGINT');
    await exited; // npm itself ends by the signal; Kith logs "stopped" once everything is closed
    // Kith stops its Postgres last, then exits; nothing of it may be left running
    if (existsSync(join(dataDir, 'postgres', 'postmaster.pid'))) {
      throw new Error('embedded Postgres still running after Kith exited');
    }
    if (!stoppedCleanly) throw new Error(`Kith did not stop cleanly on SIGINT: ${stderr}`);
    return { readyMs: round(readyMs, 0), internalMs, stopMs: round(performance.now() - stopping, 0), readyz };
  } finally {
    await stopLeftovers(child, exited, dataDir);
    children.delete(child);
  }
}

/** After a failed run: Ctrl-C, then SIGKILL if need be, then any Postgres left in the data dir. */
async function stopLeftovers(child: ChildProcess, exited: Promise<void>, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    process.kill(-child.pid!, 'SIGINT');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 300 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
}

async function main() {
  const first: Start[] = [];
  const restart: Start[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const dir = await mkdtemp(join(tmpdir(), 'kith-bench-start-'));
    await chmod(dir, 0o755); // as root, Postgres runs as the postgres user and must reach its directory
    try {
      process.stderr.write(`run ${run}/${RUNS}: first start on an empty data dir …\n`);
      first.push(await startOnce(join(dir, 'data')));
      process.stderr.write(`run ${run}/${RUNS}: restart on the same data dir …\n`);
      restart.push(await startOnce(join(dir, 'data')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const summary = (starts: Start[]) => ({
    minMs: Math.min(...starts.map((s) => s.readyMs)),
    medianMs: median(starts.map((s) => s.readyMs)),
    internalMedianMs: median(starts.map((s) => s.internalMs ?? Number.NaN)),
    stopMedianMs: median(starts.map((s) => s.stopMs)),
  });
  const results = { firstStart: summary(first), restart: summary(restart) };
  console.log(`\nnpm start → "Kith is ready", embedded shape, ${RUNS} runs each (goal ≤ 5000 ms)\n`);
  console.log(
    table([
      ['start', 'min ms', 'median ms', 'startServer() median ms', 'stop (SIGINT) median ms'],
      ...(['firstStart', 'restart'] as const).map((k) => [
        k === 'firstStart' ? 'first start (empty data dir)' : 'restart (same data dir)',
        results[k].minMs,
        results[k].medianMs,
        results[k].internalMedianMs,
        results[k].stopMedianMs,
      ]),
    ]),
  );
  const notReady = [...first, ...restart].filter((s) => s.readyz !== 200);
  if (notReady.length > 0) {
    console.log(
      `\nwarning: /readyz right after the ready line answered ${notReady.map((s) => s.readyz).join(', ')} ` +
        `in ${notReady.length} of ${first.length + restart.length} starts`,
    );
  }
  const file = await writeResult('startup', { settings: { runs: RUNS }, runs: { first, restart }, results });
  console.log(`written to ${file}`);
}

await main();
