import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkMigrations, MigrationError, migrate, readMigrations } from '../src/platform/db/migrate.ts';
import { SERVER_DIR } from './helpers/process.ts';

/** migrate.ts's advisory lock key: held here to make two migrators queue behind it. */
const MIGRATION_LOCK_KEY = 7_230_114_001;

const pools: pg.Pool[] = [];
const created: string[] = [];
let dir: string;

/** A new, empty database (not cloned from the migrated template), dropped by the global teardown too. */
async function emptyDatabase(): Promise<string> {
  const name = `kith_test_${inject('runId')}_m${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  created.push(name);
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

function poolFor(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pools.push(pool);
  return pool;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function run(command: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: SERVER_DIR, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kith-migrations-'));
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('applies each file exactly once when two instances migrate at the same time', async () => {
    const migrations = join(dir, 'concurrent');
    await mkdir(migrations);
    // neither file may run twice: a second CREATE TABLE / INSERT under a unique key would fail
    await writeFile(join(migrations, '0001_first.sql'), 'CREATE TABLE first (id int PRIMARY KEY);');
    await writeFile(
      join(migrations, '0002_second.sql'),
      'CREATE TABLE second (id int PRIMARY KEY); INSERT INTO first VALUES (1);',
    );
    const url = await emptyDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // hold the lock so that both migrators are provably waiting on it together
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const a = migrate(poolFor(url), () => {}, migrations);
      const b = migrate(poolFor(url), () => {}, migrations);
      await waitFor(async () => {
        const { rows } = await holder.query(
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        return rows[0].n === 2;
      }, 'both migrators to wait for the advisory lock');
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      const [appliedA, appliedB] = await Promise.all([a, b]);
      expect([...appliedA, ...appliedB].sort()).toEqual(['0001_first.sql', '0002_second.sql']);
      // each file under the lock in its own transaction: one instance may apply both, or each one
      // (A the first, B the second once A's commit released the lock) — never the same file twice
      expect(appliedA.filter((file) => appliedB.includes(file))).toEqual([]);

      const { rows } = await holder.query(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      );
      const files = await readMigrations(migrations);
      expect(rows).toEqual(files.map((f) => ({ version: f.version, name: f.name, checksum: f.checksum })));
      expect(rows[0].checksum).toBe(
        createHash('sha256').update('CREATE TABLE first (id int PRIMARY KEY);').digest('hex'),
      );
      expect((await holder.query('SELECT count(*)::int AS n FROM first')).rows[0].n).toBe(1);
    } finally {
      await holder.end();
    }
  });

  it('stops with a clear MigrationError when an applied file changed', async () => {
    const migrations = join(dir, 'changed');
    await mkdir(migrations);
    const file = join(migrations, '0001_widgets.sql');
    await writeFile(file, 'CREATE TABLE widgets (id int);');
    const pool = poolFor(await emptyDatabase());
    expect(await migrate(pool, () => {}, migrations)).toEqual(['0001_widgets.sql']);
    expect(await checkMigrations(pool, migrations)).toBe(0);

    await writeFile(file, 'CREATE TABLE widgets (id bigint);');
    await writeFile(join(migrations, '0002_more.sql'), 'CREATE TABLE more (id int);');
    const failure = migrate(pool, () => {}, migrations);
    await expect(failure).rejects.toThrow(MigrationError);
    await expect(failure).rejects.toThrow(/widgets.*changed after it was applied.*forward-only/);
    await expect(checkMigrations(pool, migrations)).rejects.toThrow(/changed after it was applied/);
    // nothing after the changed file was applied
    const { rows } = await pool.query(`SELECT to_regclass('public.more') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it('rolls back a failing migration and records nothing for it', async () => {
    const migrations = join(dir, 'failing');
    await mkdir(migrations);
    await writeFile(join(migrations, '0001_ok.sql'), 'CREATE TABLE ok (id int);');
    await writeFile(join(migrations, '0002_bad.sql'), 'CREATE TABLE half (id int); SELECT * FROM nowhere;');
    const pool = poolFor(await emptyDatabase());
    await expect(migrate(pool, () => {}, migrations)).rejects.toThrow(/0002_bad.sql failed: .*nowhere/);
    const { rows } = await pool.query('SELECT version FROM schema_migrations');
    expect(rows).toEqual([{ version: 1 }]);
    expect((await pool.query(`SELECT to_regclass('public.half') AS t`)).rows[0].t).toBeNull();
  });

  it('`npm run migrate` applies, reports, is idempotent and refuses a changed checksum', async () => {
    const url = await emptyDatabase();
    const env = { DATABASE_URL: url, LOG_LEVEL: 'warn' };
    const first = await run('npm', ['run', '--silent', 'migrate'], env);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    const expected = (await readMigrations()).map(
      (m) => `${String(m.version).padStart(4, '0')}_${m.name}.sql`,
    );
    expect(first.stdout).toContain(`applied ${expected.length} migration(s)`);
    for (const name of expected) expect(first.stdout).toContain(name);
    const pool = poolFor(url);
    // graphile-worker's schema is part of the deploy step too
    expect((await pool.query(`SELECT to_regnamespace('graphile_worker') AS s`)).rows[0].s).not.toBeNull();

    const again = await run('npm', ['run', '--silent', 'migrate'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('up to date');

    await pool.query(`UPDATE schema_migrations SET checksum = 'tampered' WHERE version = $1`, [
      Number(expected[0]!.split('_')[0]),
    ]);
    const refused = await run('npm', ['run', '--silent', 'migrate'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('changed after it was applied');
    expect(refused.stderr).not.toContain('    at '); // a message, not a stack trace
  }, 180_000); // three CLI processes through tsx: slow on a loaded machine
});
