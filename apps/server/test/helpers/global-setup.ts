import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';
import { migrateQueue } from '../../src/platform/queue/worker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    runId: string;
  }
}

/**
 * Migrates one template database; every test file clones its own database from it
 * (CREATE DATABASE … TEMPLATE …). Uses TEST_DATABASE_URL's server when set, embedded Postgres otherwise.
 */
export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString('hex');
  let stopEmbedded: (() => Promise<void>) | undefined;
  let tempDir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    tempDir = await mkdtemp(join(tmpdir(), 'kith-test-pg-'));
    await chmod(tempDir, 0o755); // as root, Postgres runs as the postgres user and must reach its directory
    const embedded = await startEmbeddedPostgres(join(tempDir, 'postgres'));
    adminUrl = embedded.adminUrl;
    stopEmbedded = embedded.stop;
  }
  const template = `kith_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const url = new URL(adminUrl);
  url.pathname = `/${template}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  await migrate(pool);
  await migrateQueue(pool, createLogger('silent'));
  await pool.end();
  await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE true`);

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('runId', runId);

  return async () => {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`kith_%${runId}%`],
    );
    for (const { datname } of rows) {
      if (datname === template) await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE false`);
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
    await admin.end();
    await stopEmbedded?.();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
}
