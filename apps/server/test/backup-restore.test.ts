import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cronJobs, jobHandlers } from '../src/jobs.ts';
import { runBackup } from '../src/platform/backup/backup.ts';
import { recordRun } from '../src/platform/backup/backup-runs.ts';
import { type BackupTarget, createBackupTarget, openLocation } from '../src/platform/backup/backup-target.ts';
import { MANIFEST_FILE } from '../src/platform/backup/manifest.ts';
import { findPgTools } from '../src/platform/backup/pg-tools.ts';
import { RestoreError, readManifest, restoreBackup } from '../src/platform/backup/restore.ts';
import { compareChecksums, tableChecksums } from '../src/platform/backup/table-checksums.ts';
import { verifyBackup } from '../src/platform/backup/verify.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { DiskStorage } from '../src/platform/storage/disk-storage.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser } from './helpers/factories.ts';
import { SERVER_DIR, spawnServer, stopServer } from './helpers/process.ts';
import { befriend, createPost } from './helpers/social.ts';
import { png, uploadReady } from './media-helpers.ts';

const run = promisify(execFile);
const adminUrl = inject('adminDatabaseUrl');
const logger = createLogger('silent');

/** pg_dump must be at least as new as the test server (embedded PostgreSQL 17 has none beside it). */
async function serverMajor(): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT current_setting('server_version_num') AS n`);
    return Math.floor(Number(rows[0]!.n) / 10_000);
  } finally {
    await client.end();
  }
}
const tools = await findPgTools(await serverMajor()).catch((err: Error) => {
  console.warn(`backup tests skipped: ${err.message}`);
  return undefined;
});

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An empty database on the test server (not cloned from the migrated template). */
async function emptyDatabase(): Promise<string> {
  const name = `kith_test_restore_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function diskTarget(dir: string): BackupTarget {
  return createBackupTarget({
    backup: {
      target: dir,
      keepDaily: 7,
      keepWeekly: 4,
      schedule: '',
      verifySchedule: '',
      pgBinDir: undefined,
    },
    s3: undefined,
    dataDir: dir,
  });
}

describe.skipIf(!tools)('backup → wipe → restore → compare → the app runs on the restored data', () => {
  it('restores every row and media object, and a user logs in on the restored copy', async () => {
    const t = await buildTestApp();
    const alice = await createUser(t);
    const bob = await createUser(t);
    await befriend(t, alice, bob);
    const medium = await uploadReady(t, alice, await png(320, 240));
    const post = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: alice.headers,
      payload: { text: 'backed up #kith', visibility: 'friends', mediaIds: [medium.id] },
    });
    expect(post.statusCode, post.body).toBe(201);
    await createPost(t, bob, 'a second post');
    const storage = new DiskStorage(join(t.platform.config.dataDir, 'media'));
    const target = diskTarget(await tempDir('kith-backups-'));

    const backup = await recordRun(t.databaseUrl, 'backup', () =>
      runBackup({ databaseUrl: t.databaseUrl, storage, target, keep: { daily: 7, weekly: 4 }, logger }),
    );
    const { manifest } = backup;
    expect(backup.location).toBe(target.locationOf(manifest.name));
    expect(await target.list()).toEqual([manifest.name]);
    expect(manifest.tables.users?.rows).toBe(2);
    expect(manifest.tables.posts?.rows).toBe(2);
    expect(manifest.media.objects.length).toBeGreaterThanOrEqual(2); // original + variants
    expect(manifest.media.missing).toEqual([]);
    // the metric every instance reports comes from the recorded run
    const scrape = await t.platform.metrics.registry.getSingleMetricAsString(
      'kith_backup_last_success_timestamp_seconds',
    );
    const lastSuccess = Number(/ (\d+(?:\.\d+)?)$/m.exec(scrape)?.[1]);
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(600);

    // the restore drill passes on a good backup
    const drill = await verifyBackup({ target, databaseUrl: t.databaseUrl, logger });
    expect(drill.problems).toEqual([]);
    expect(drill.ok).toBe(true);

    // wipe: a new, empty database and an empty media store
    const restoredUrl = await emptyDatabase();
    const restoredData = await tempDir('kith-restored-data-');
    const restoredStorage = new DiskStorage(join(restoredData, 'media'));
    await restoreBackup({
      target,
      name: manifest.name,
      databaseUrl: restoredUrl,
      storage: restoredStorage,
      logger,
    });
    const client = new pg.Client({ connectionString: restoredUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      expect(compareChecksums(manifest.tables, await tableChecksums(client))).toEqual([]);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }

    // the real server starts on the restored data; alice logs in and her image is served
    const server = await spawnServer({ env: { DATABASE_URL: restoredUrl, DATA_DIR: restoredData } });
    cleanups.push(() => stopServer(server));
    const signin = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: alice.username, password: alice.password }),
    });
    expect(signin.status).toBe(200);
    const { accessToken } = (await signin.json()) as { accessToken: string };
    const view = await fetch(`${server.url}/api/v1/media/${medium.id}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(view.status).toBe(200);
    const body = (await view.json()) as { status: string; variants: Record<string, { url: string }> };
    expect(body.status).toBe('ready');
    const variant = Object.values(body.variants)[0]!;
    const file = await fetch(new URL(variant.url, server.url), {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(file.status).toBe(200);
    const served = createHash('sha256')
      .update(Buffer.from(await file.arrayBuffer()))
      .digest('hex');
    expect(manifest.media.objects.map((o) => o.sha256)).toContain(served);
    expect((await stopServer(server)).code).toBe(0);
  }, 180_000);

  it('refuses a non-empty target, a damaged backup and a schema this code does not know', async () => {
    const t = await buildTestApp();
    await createUser(t);
    const storage = new DiskStorage(join(t.platform.config.dataDir, 'media'));
    const dir = await tempDir('kith-backups-');
    const target = diskTarget(dir);
    const { manifest } = await runBackup({
      databaseUrl: t.databaseUrl,
      storage,
      target,
      keep: { daily: 7, weekly: 4 },
      logger,
    });

    // the source database is not empty: refused, nothing changed
    await expect(
      restoreBackup({ target, name: manifest.name, databaseUrl: t.databaseUrl, storage, logger }),
    ).rejects.toThrow(/not empty.*--force/);

    // a damaged dump is found before the target is touched
    const damaged = await emptyDatabase();
    await writeFile(join(dir, manifest.name, 'database.dump'), 'not a dump');
    await expect(
      restoreBackup({
        target,
        name: manifest.name,
        databaseUrl: damaged,
        storage: new DiskStorage(await tempDir('m-')),
        logger,
      }),
    ).rejects.toThrow(RestoreError);
    const check = new pg.Client({ connectionString: damaged });
    await check.connect();
    const { rows } = await check.query(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`,
    );
    await check.end();
    expect(rows[0].n).toBe(0);

    // a backup from a newer release (a migration this code lacks) is refused
    const future = {
      ...(await readManifest(target, manifest.name)),
      schema: { version: 9999, name: 'from_the_future' },
    };
    await writeFile(join(dir, manifest.name, MANIFEST_FILE), JSON.stringify(future));
    await expect(
      restoreBackup({ target, name: manifest.name, databaseUrl: damaged, storage, logger }),
    ).rejects.toThrow(/9999_from_the_future.*does not have/);
    expect(() => openLocation('/tmp/not-a-backup', undefined)).toThrow(/not a backup location/);
  }, 120_000);

  it('`npm run backup` prints the location last; a second concurrent backup waits its turn', async () => {
    const t = await buildTestApp();
    await createUser(t);
    const dir = await tempDir('kith-backups-cli-');
    const env = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: t.databaseUrl,
      DATA_DIR: t.platform.config.dataDir,
      BACKUP_TARGET: dir,
    };
    const cli = ['--import', 'tsx', 'src/cli/backup.ts'];
    // hold the backup lock: the CLI answers "busy" (exit 75) instead of running a second backup
    const holder = new pg.Client({ connectionString: t.databaseUrl });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(7230114002)');
    const busy = await run(process.execPath, [...cli, 'backup'], { cwd: SERVER_DIR, env }).catch((e) => e);
    expect(busy.code).toBe(75);
    expect(busy.stderr).toMatch(/another backup/);
    await holder.end();

    const { stdout } = await run(process.execPath, [...cli, 'backup'], { cwd: SERVER_DIR, env });
    const location = stdout.trim().split('\n').at(-1)!;
    expect(location.startsWith(dir)).toBe(true);
    const opened = openLocation(location, undefined);
    expect(await opened.target.list()).toEqual([opened.name]);

    const verified = await run(process.execPath, [...cli, 'verify'], { cwd: SERVER_DIR, env });
    expect(verified.stdout).toMatch(/verified kith-\d{8}T\d{6}Z: \d+ tables/);
    const refused = await run(process.execPath, [...cli, 'restore', '--from', location], {
      cwd: SERVER_DIR,
      env,
    }).catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not empty/);
    const usage = await run(process.execPath, [...cli, 'restore'], { cwd: SERVER_DIR, env }).catch((e) => e);
    expect(usage.code).toBe(64);

    const runs = await t.platform.db.primary
      .selectFrom('backup_runs' as never)
      .select(['kind', 'status'] as never)
      .execute();
    expect(runs).toEqual(
      expect.arrayContaining([
        { kind: 'backup', status: 'ok' },
        { kind: 'verify', status: 'ok' },
      ]),
    );
  }, 240_000);
});

describe.skipIf(!tools)('scheduled backups', () => {
  it('are scheduled only once BACKUP_TARGET is set; the worker job backs up and the drill job verifies', async () => {
    const base = {
      keepDaily: 7,
      keepWeekly: 4,
      schedule: '30 3 * * *',
      verifySchedule: '30 5 * * *',
      pgBinDir: undefined,
    };
    expect(cronJobs({ backup: { ...base, target: undefined } }).map((c) => c.task)).not.toContain(
      'backup.run',
    );
    expect(cronJobs({ backup: { ...base, target: '/backups' } })).toEqual(
      expect.arrayContaining([
        { task: 'backup.run', schedule: '30 3 * * *' },
        { task: 'backup.verify', schedule: '30 5 * * *' },
      ]),
    );

    const t = await buildTestApp();
    await createUser(t);
    const handlers = jobHandlers(t.services);
    await handlers['backup.run']({}, { jobId: '1', attempts: 1 });
    await handlers['backup.verify']({}, { jobId: '2', attempts: 1 });
    const runs = await t.platform.db.primary
      .selectFrom('backup_runs' as never)
      .select(['kind', 'status', 'location'] as never)
      .orderBy('started_at' as never)
      .execute();
    expect(runs).toMatchObject([
      {
        kind: 'backup',
        status: 'ok',
        location: expect.stringContaining(join(t.platform.config.dataDir, 'backups')),
      },
      { kind: 'verify', status: 'ok' },
    ]);
  }, 120_000);
});
