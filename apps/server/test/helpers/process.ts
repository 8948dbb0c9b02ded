import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { until } from './wait.ts';

export const SERVER_DIR = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_DIR = join(SERVER_DIR, '../..');

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface ServerProcess {
  child: ChildProcess;
  /** The URL from the "Kith is ready" line (set once ready). */
  url: string;
  /** Milliseconds from spawn to the "Kith is ready" line. */
  readyAfterMs: number;
  /** Every JSON log line written to stdout so far. */
  logs: LogLine[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first log line matching `predicate` (past or future); rejects after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
const dataDirs = new Set<string>();

/** The pid of a Postgres left running in `dataDir/postgres` (e.g. after `kill -9`), if any. */
export function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Resolves once process `pid` is gone (rejects after `timeoutMs`). For a process that is not our
 * child (a grandchild, a postmaster), which raises no exit event here.
 */
export function waitForExit(pid: number, timeoutMs = 30_000): Promise<void> {
  return until(() => !isAlive(pid), { what: `process ${pid} to exit`, timeoutMs, intervalMs: 25 });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every process started here (its whole process group) and any Postgres they left behind. */
export async function killAll(): Promise<void> {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    }
  }
  running.clear();
  for (const dir of dataDirs) {
    const pid = postmasterPid(dir);
    if (pid && isAlive(pid)) {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown; the data dir is thrown away
      await waitForExit(pid, 10_000).catch(() => {});
    }
  }
}

afterAll(killAll);

export interface SpawnOptions {
  /** Environment on top of the current one (PATH and friends are inherited). */
  env: Record<string, string>;
  /** `node` runs `node --import tsx src/main.ts` in apps/server; `npm` runs `npm start` in the repo root. */
  command?: 'node' | 'npm';
  args?: string[];
  /** Wait for the "Kith is ready" line (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

/**
 * Spawns the real server as a child process (in its own process group, so that it and everything it
 * starts can be killed together) and waits for its "Kith is ready" line. Every process spawned here is
 * killed in afterAll, even when a test fails; a Postgres left behind in `env.DATA_DIR` is stopped too.
 */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const started = performance.now();
  const { command = 'node' } = options;
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    // load shedding reacts to this machine's load (a busy CI box right after start-up), not to the
    // server under test: off unless a test sets it
    MAX_EVENT_LOOP_DELAY_MS: '0',
    MAX_EVENT_LOOP_UTILIZATION: '0',
    ...options.env,
  };
  // the test runner's own settings must not leak into the server under test
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST') delete env[key];
  if (options.env.DATA_DIR) dataDirs.add(options.env.DATA_DIR);
  const child =
    command === 'npm'
      ? spawn('npm', ['start', ...(options.args ?? [])], { cwd: REPO_DIR, env, detached: true })
      : spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...(options.args ?? [])], {
          cwd: SERVER_DIR,
          env,
          detached: true,
        });
  running.add(child);
  let out = '';
  let err = '';
  let partial = '';
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line));
      } catch {
        // not a log line (npm's banner)
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    }),
  );

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 30_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) {
          done();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`server exited (${child.exitCode ?? child.signalCode}) first.\n${err}\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no such log line within ${timeoutMs} ms.\nstderr:\n${err}\nstdout:\n${out}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const server: ServerProcess = {
    child,
    url: '',
    readyAfterMs: 0,
    logs,
    stdout: () => out,
    stderr: () => err,
    waitForLog,
    exited,
  };
  if (options.waitReady ?? true) {
    const ready = await waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('Kith is ready'),
      options.readyTimeoutMs ?? 60_000,
    );
    server.url = String(ready.url).replace('localhost', '127.0.0.1');
    server.readyAfterMs = Math.round(performance.now() - started);
  }
  return server;
}

/** Sends `signal` and resolves with how the process ended (rejects if it takes longer than `timeoutMs`). */
export async function stopServer(
  server: ServerProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`server did not exit within ${timeoutMs} ms after ${signal}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops a child process the test started and waits for it to exit: first `gentle` (nginx's
 * graceful SIGQUIT, PgBouncer's safe SIGINT), then SIGTERM if it is still there after `graceMs`
 * (a graceful stop waits for open connections — a WebSocket could hold nginx for its read
 * timeout), then SIGKILL. Nothing the test started outlives it.
 */
export async function stopChild(child: ChildProcess, gentle: NodeJS.Signals, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  for (const signal of [gentle, 'SIGTERM', 'SIGKILL'] as const) {
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const outcome = await Promise.race([exited.then(() => 'exited' as const), late]);
    clearTimeout(timer);
    if (outcome === 'exited') return;
  }
  await exited;
}
