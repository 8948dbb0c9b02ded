import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../apps/server/src/platform/db/embedded.ts';
import { migrate } from '../../apps/server/src/platform/db/migrate.ts';
import { createLogger } from '../../apps/server/src/platform/observability/logger.ts';
import { migrateQueue } from '../../apps/server/src/platform/queue/worker.ts';

export interface BenchDatabase {
  url: string;
  /** `TEST_DATABASE_URL`'s server, or an embedded Postgres started for this run. */
  server: 'machine' | 'embedded';
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the machine's Postgres (TEST_DATABASE_URL, as the tests use) or,
 * without it, on an embedded Postgres in a temporary directory. `drop()` removes everything.
 */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let tempDir: string | undefined;
  if (!adminUrl) {
    tempDir = await mkdtemp(join(tmpdir(), 'kith-bench-pg-'));
    await chmod(tempDir, 0o755); // as root, Postgres runs as the postgres user and must reach its directory
    const embedded = await startEmbeddedPostgres(join(tempDir, 'postgres'));
    adminUrl = embedded.adminUrl;
    stopEmbedded = embedded.stop;
  }
  const name = `kith_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // an idle client dropped by the server: the pool replaces it
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  await migrate(pool);
  await migrateQueue(pool, createLogger('silent'));
  await pool.end();
  return {
    url: url.toString(),
    server: stopEmbedded ? 'embedded' : 'machine',
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      await stopEmbedded?.();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}
