import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export interface TestRedisServer {
  port: number;
  url: string;
  /** SIGKILL: no shutdown, clients see the connection drop. Resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts a fresh (empty) server on the same port; resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Whether the server process is running (started and not killed or stopped). */
  running(): boolean;
  /** SIGSTOP: the connection stays open but nothing answers (a hung server); `resume()` sends SIGCONT. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A real redis-server of the test's own on a free port, in a temp dir, without persistence.
 * Stopped with afterAll; call it at the top level of a test file or in beforeAll.
 */
export async function startRedisServer(): Promise<TestRedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-test-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          proc.stdout.off('data', onData);
          proc.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) =>
        reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`));
      proc.stdout.on('data', onData);
      proc.once('exit', onExit);
    });
    proc.stdout.resume();
    proc.stderr.resume();
  };

  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill();
    await rm(dir, { recursive: true, force: true });
  };
  afterAll(stop);
  const signal = (name: NodeJS.Signals) => () => {
    if (!child) throw new Error('redis-server is not running');
    child.kill(name);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    pause: signal('SIGSTOP'),
    resume: signal('SIGCONT'),
    stop,
  };
}

/** Anything that reports Redis health and its changes (the adapters, or a wrapped Platform). */
export interface HealthSource {
  healthy(): boolean;
  onHealthChange(listener: (healthy: boolean) => void): () => void;
}

/** Resolves once `source` reports `wanted` (at once if it already does); rejects after `timeoutMs`. */
export function waitForHealth(source: HealthSource, wanted: boolean, timeoutMs = 15_000): Promise<void> {
  if (source.healthy() === wanted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`redis health did not become ${wanted ? 'up' : 'down'} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = source.onHealthChange((healthy) => {
      if (healthy !== wanted) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** The Platform's Redis health as a HealthSource. */
export const platformHealth = (platform: {
  redisHealth(): 'none' | 'up' | 'down';
  onRedisHealthChange(listener: (health: 'up' | 'down') => void): () => void;
}): HealthSource => ({
  healthy: () => platform.redisHealth() === 'up',
  onHealthChange: (listener) => platform.onRedisHealthChange((health) => listener(health === 'up')),
});
