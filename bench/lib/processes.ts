import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR } from './report.ts';

export { freePort } from '../../apps/server/src/platform/db/embedded.ts';

export interface Started {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

const started = new Set<Started>();

/** Stops everything this bench started, in reverse order. */
export async function stopAll(): Promise<void> {
  for (const s of [...started].reverse()) await s.stop();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAll().finally(() => process.exit(130));
  });
}

/** Only what a process needs from the environment: nothing of the caller's Kith settings leaks in. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) env[key] = process.env[key]!;
  return env;
}

/** Settings for the real server in production mode, with generated secrets. */
export function productionEnv(databaseUrl: string, port: number, dataDir: string): Record<string, string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    MIGRATE_ON_START: 'false',
    KITH_ROLES: 'api',
    JWT_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    MEDIA_SIGNING_SECRET: randomBytes(32).toString('hex'),
    METRICS_TOKEN: randomBytes(16).toString('hex'),
  };
}

/** Waits until `url` answers 200 (the process is polled; it failing to start is reported at once). */
async function waitUntilServing(url: string, child: ChildProcess, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before serving`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not serve ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `node --import tsx <script>` in its own process group, logs to `logFile`, and resolves
 * once `readyPath` answers 200 on 127.0.0.1:`port`.
 */
export async function startNode(options: {
  what: string;
  script: string;
  cwd?: string;
  port: number;
  env: Record<string, string>;
  readyPath: string;
  logFile: string;
  /** Extra Node options, e.g. `--cpu-prof` to profile the server under load. */
  nodeArgs?: string[];
}): Promise<Started> {
  const log = openSync(options.logFile, 'a');
  // BENCH_CPU_PROF=<dir>: the Kith server writes a V8 CPU profile there when it stops
  const profile =
    process.env.BENCH_CPU_PROF && options.script === SERVER_MAIN
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
      : [];
  const child = spawn(
    process.execPath,
    [...profile, ...(options.nodeArgs ?? []), '--import', 'tsx', options.script],
    {
      cwd: options.cwd ?? REPO_DIR,
      env: { ...baseEnv(), ...options.env },
      stdio: ['ignore', log, log],
      detached: true,
    },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  const handle: Started = {
    child,
    url,
    async stop() {
      started.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
  started.add(handle);
  await waitUntilServing(`${url}${options.readyPath}`, child, options.what);
  return handle;
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux). Per request it is a
 * steadier figure than throughput on a machine shared with other work: it counts only what the
 * server itself spent, not how much of the cores it was given.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which may hold spaces) start at state; utime, stime are 14, 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

export const SERVER_MAIN = join(REPO_DIR, 'apps/server/src/main.ts');
export const BARE_SERVER = join(REPO_DIR, 'bench/lib/bare-server.ts');
export const PLUGIN_SERVER = join(REPO_DIR, 'bench/lib/plugin-server.ts');
