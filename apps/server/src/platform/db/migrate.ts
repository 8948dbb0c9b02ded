import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/** The file name a migration came from, e.g. 0001_foundation.sql. */
const fileName = (m: { version: number; name: string }) =>
  `${String(m.version).padStart(4, '0')}_${m.name}.sql`;

/** Arbitrary constant shared by every instance so that only one migrates at a time. */
const LOCK_KEY = 7_230_114_001;

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: MigrationFile[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file name must look like NNNN_name.sql: ${file}`);
    const sql = await readFile(join(dir, file), 'utf8');
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version))
      throw new MigrationError(`two migration files share version ${version}`);
    migrations.push({
      version,
      name: match[2]!,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  return migrations;
}

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

async function applied(client: pg.ClientBase): Promise<Applied[]> {
  const exists = await client.query(`SELECT to_regclass('public.schema_migrations') AS t`);
  if (!exists.rows[0].t) return [];
  const { rows } = await client.query<Applied>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  return rows;
}

/** Throws if an applied migration changed or vanished; returns the files not yet applied. */
function pendingAfterCheck(files: MigrationFile[], done: Applied[]): MigrationFile[] {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of done) {
    const file = byVersion.get(row.version);
    if (!file) {
      throw new MigrationError(
        `migration ${fileName(row)} is applied in the database but its file is missing (is this an older build?)`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${fileName(row)} changed after it was applied (checksum ${row.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk); migrations are forward-only: restore the file and add a new one`,
      );
    }
  }
  const doneVersions = new Set(done.map((r) => r.version));
  return files.filter((f) => !doneVersions.has(f.version));
}

/** Returns how many migrations are pending, after checking every applied checksum. */
export async function checkMigrations(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<number> {
  const files = await readMigrations(dir);
  const client = await pool.connect();
  try {
    return pendingAfterCheck(files, await applied(client)).length;
  } finally {
    client.release();
  }
}

/**
 * Runs `work` in a transaction holding the migration lock. The lock is transaction-scoped, so it
 * is released by COMMIT/ROLLBACK whatever happens to the client, and it behaves the same through
 * PgBouncer in transaction mode (a session lock there would stay on a pooled server connection).
 */
async function lockedTransaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * A file whose first lines say `-- kith:no-transaction` holds one statement that cannot run in a
 * transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE … ADD VALUE): it runs alone, under a session
 * lock. That lock needs the direct connection migrations always use (never PgBouncer).
 */
const NO_TRANSACTION = /^--\s*kith:no-transaction\b/m;

async function outsideTransaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    return await work();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
  }
}

/**
 * Applies pending migrations, each in its own transaction under the migration lock, so that
 * instances starting together apply each file exactly once (a file another instance applied while
 * this one waited for the lock is skipped).
 */
export async function migrate(
  pool: pg.Pool,
  log: (msg: string) => void = () => {},
  dir = MIGRATIONS_DIR,
): Promise<string[]> {
  const files = await readMigrations(dir);
  const client = await pool.connect();
  const appliedNow: string[] = [];
  try {
    await lockedTransaction(client, () =>
      client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`),
    );
    for (const file of pendingAfterCheck(files, await applied(client))) {
      const run = NO_TRANSACTION.test(file.sql) ? outsideTransaction : lockedTransaction;
      const appliedHere = await run(client, async () => {
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [file.version]);
        if (done.rowCount) return false;
        try {
          await client.query(file.sql);
        } catch (err) {
          throw new MigrationError(`migration ${fileName(file)} failed: ${(err as Error).message}`);
        }
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          file.version,
          file.name,
          file.checksum,
        ]);
        return true;
      });
      if (!appliedHere) continue;
      appliedNow.push(`${fileName(file)}`);
      log(`applied migration ${fileName(file)}`);
    }
  } finally {
    client.release();
  }
  return appliedNow;
}
