import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';
import { createPlatform } from '../../src/platform/platform.ts';
import { migrateQueue } from '../../src/platform/queue/worker.ts';
import { buildServices } from '../../src/services.ts';
import { type TestApp, testConfig } from './app.ts';

export interface PrivatePostgres {
  /** The migrated `kith` database. */
  url: string;
  adminUrl: string;
  /** The postmaster's pid (the leader of the server's process group). */
  pid: number;
  /**
   * Freezes the server: SIGSTOP to the postmaster's whole process group (postmaster, backends,
   * background workers) and to each backend pid `pg_stat_activity` lists just before. Connections
   * stay open and nothing answers — a hung server, not a dead one. Returns the pids stopped.
   */
  pause(): Promise<number[]>;
  /** SIGCONT to everything `pause()` stopped. */
  resume(): void;
  /** Resumes it if paused, stops it (fast shutdown) and removes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (never the shared one: the test may pause or kill it), on a
 * free loopback port in a temp dir, migrated the way test/helpers/global-setup.ts migrates the
 * template. The caller must `stop()` it (also on failure: call it from afterAll).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-test-private-pg-'));
  await chmod(dir, 0o755); // as root, Postgres runs as the postgres user and must reach its directory
  const server = await startEmbeddedPostgres(join(dir, 'postgres'));
  const pid = Number((await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await migrate(pool);
    await migrateQueue(pool, createLogger('silent'));
  } finally {
    await pool.end();
  }

  let stopped: number[] = [];
  let done = false;
  const signal = (pids: number[], name: NodeJS.Signals) => {
    for (const p of pids) {
      try {
        process.kill(p, name);
      } catch {
        // exited meanwhile
      }
    }
  };
  const resume = () => {
    if (stopped.length === 0) return;
    try {
      process.kill(-pid, 'SIGCONT');
    } catch {
      // the group is gone
    }
    signal(stopped, 'SIGCONT');
    stopped = [];
  };
  return {
    url: server.url,
    adminUrl: server.adminUrl,
    pid,
    async pause() {
      const admin = new pg.Client({ connectionString: server.adminUrl });
      await admin.connect();
      let backends: number[];
      try {
        const { rows } = await admin.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()',
        );
        backends = rows.map((r) => r.pid);
      } finally {
        await admin.end();
      }
      process.kill(-pid, 'SIGSTOP');
      signal(backends, 'SIGSTOP');
      stopped = [pid, ...backends];
      return stopped;
    },
    resume,
    async stop() {
      if (done) return;
      done = true;
      resume();
      try {
        await server.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The real application (the same `buildServices` + `buildApp` as buildTestApp) on a database the
 * test chose, e.g. a private server's. Not cleaned up by itself: the caller closes it, before
 * stopping that server.
 */
export async function buildAppOn(databaseUrl: string, env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kith-test-data-'));
  const config = testConfig(databaseUrl, { DATA_DIR: dataDir, ...env });
  const platform = await createPlatform({ config, logger: createLogger(config.logLevel), databaseUrl });
  const services = await buildServices(platform);
  const app = await buildApp(platform, { docs: false, services });
  await app.ready();
  let closed = false;
  return {
    app,
    platform,
    services,
    databaseUrl,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await app.close();
        await platform.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
