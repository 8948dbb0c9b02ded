/**
 * Backup, restore drill and restore of a seeded database, through the commands an operator runs
 * (`npm run backup`, `npm run backup:verify`, `npm run restore`), next to the bare tools measured
 * in the same run on the same database: `pg_dump -Fc` to a file and `pg_restore` into an empty
 * database. The difference is what Kith adds (snapshot, per-table checksums, media manifest with
 * SHA-256, checksums compared on restore).
 *
 *   npm run bench:backup [-- --users 1000 --posts 20000 --media 200 --media-kib 256]
 *
 * Uses TEST_DATABASE_URL's server (as the tests do) or an embedded PostgreSQL; media on disk.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { findPgTools, pgConnectionEnv } from '../apps/server/src/platform/backup/pg-tools.ts';
import { DiskStorage } from '../apps/server/src/platform/storage/disk-storage.ts';
import { createBenchDatabase } from './lib/database.ts';
import { baseEnv } from './lib/processes.ts';
import { REPO_DIR, round, table, writeResult } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    posts: { type: 'string', default: '20000' },
    media: { type: 'string', default: '200' },
    'media-kib': { type: 'string', default: '256' },
  },
});
const USERS = Number(values.users);
const POSTS = Number(values.posts);
const MEDIA = Number(values.media);
const MEDIA_BYTES = Number(values['media-kib']) * 1024;

/** Runs a command to completion; resolves with its stdout and wall time, rejects on a non-zero exit. */
function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve({ stdout, ms: performance.now() - started })
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

async function emptyDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

async function main() {
  const db = await createBenchDatabase();
  const work = await mkdtemp(join(tmpdir(), 'kith-bench-backup-'));
  const suffix = randomBytes(4).toString('hex');
  const restoredName = `kith_bench_restored_${suffix}`;
  const bareName = `kith_bench_bare_${suffix}`;
  const adminUrl = new URL(db.url);
  adminUrl.pathname = '/postgres';
  try {
    const env = {
      ...baseEnv(),
      DATABASE_URL: db.url,
      DATA_DIR: join(work, 'data'),
      BACKUP_TARGET: join(work, 'backups'),
      LOG_LEVEL: 'warn',
    };
    const seeded = await run(
      'npm',
      ['run', '-s', 'seed', '--', '--users', String(USERS), '--posts', String(POSTS)],
      env,
    );
    console.log(`seeded ${USERS} users, ${POSTS} posts in ${round(seeded.ms / 1000)} s`);

    // media: objects on disk, named by media rows as uploads leave them
    const storage = new DiskStorage(join(work, 'data', 'media'));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows: owners } = await client.query<{ id: string }>('SELECT id FROM users ORDER BY id LIMIT 50');
    for (let i = 0; i < MEDIA; i++) {
      const id = randomUUID();
      const key = `bench/${id}.jpg`;
      await storage.put(key, randomBytes(MEDIA_BYTES), { contentType: 'image/jpeg' });
      await client.query(
        `INSERT INTO media (id, owner_id, status, mime_type, original_key, original_bytes, stored_bytes, width, height)
         VALUES ($1, $2, 'ready', 'image/jpeg', $3, $4, $4, 640, 480)`,
        [id, owners[i % owners.length]!.id, key, MEDIA_BYTES],
      );
    }
    const { rows: size } = await client.query<{ bytes: string }>(
      'SELECT pg_database_size(current_database()) AS bytes',
    );
    const { rows: server } = await client.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    await client.end();
    const databaseBytes = Number(size[0]!.bytes);

    // Kith's commands
    const backup = await run('npm', ['run', '-s', 'backup'], env);
    const location = backup.stdout.trim().split('\n').at(-1)!;
    const verify = await run('npm', ['run', '-s', 'backup:verify', '--', '--from', location], env);
    const restoredUrl = await emptyDatabase(adminUrl.toString(), restoredName);
    const restore = await run('npm', ['run', '-s', 'restore', '--', '--from', location], {
      ...env,
      DATABASE_URL: restoredUrl,
      DATA_DIR: join(work, 'restored'),
    });
    const backupBytes = await directoryBytes(location);

    // the bare tools on the same database, same server
    const tools = await findPgTools(Math.floor(Number(server[0]!.v) / 10000));
    const dumpFile = join(work, 'bare.dump');
    const bareDump = await run(tools.pgDump, ['-Fc', '-f', dumpFile, db.url], {
      ...baseEnv(),
      ...(pgConnectionEnv(db.url) as Record<string, string>),
    });
    const bareUrl = await emptyDatabase(adminUrl.toString(), bareName);
    const bareRestore = await run(tools.pgRestore, ['--no-owner', '-d', bareUrl, dumpFile], {
      ...baseEnv(),
      ...(pgConnectionEnv(bareUrl) as Record<string, string>),
    });
    const dumpBytes = (await stat(dumpFile)).size;

    const mib = (n: number) => round(n / 1024 ** 2);
    const s = (ms: number) => round(ms / 1000, 2);
    console.log(
      `\ndatabase ${mib(databaseBytes)} MiB on disk; media ${MEDIA} objects × ${MEDIA_BYTES / 1024} KiB = ${mib(MEDIA * MEDIA_BYTES)} MiB`,
    );
    console.log(
      table([
        ['step', 'Kith (s)', 'bare pg tool (s)', 'Kith size (MiB)', 'bare size (MiB)'],
        ['backup (dump + media manifest)', s(backup.ms), s(bareDump.ms), mib(backupBytes), mib(dumpBytes)],
        ['restore into an empty database', s(restore.ms), s(bareRestore.ms), '', ''],
        ['restore drill (backup:verify)', s(verify.ms), '', '', ''],
      ]),
    );
    console.log('(Kith times include starting Node and npm, ~1 s each; the bare tools have no media)');
    const file = await writeResult('backup', {
      users: USERS,
      posts: POSTS,
      media: { objects: MEDIA, bytesEach: MEDIA_BYTES },
      databaseBytes,
      backup: { ms: round(backup.ms), bytes: backupBytes },
      verify: { ms: round(verify.ms) },
      restore: { ms: round(restore.ms) },
      bare: { pgDumpMs: round(bareDump.ms), pgDumpBytes: dumpBytes, pgRestoreMs: round(bareRestore.ms) },
    });
    console.log(`\nwritten to ${file}`);
  } finally {
    await dropDatabase(adminUrl.toString(), restoredName).catch(() => {});
    await dropDatabase(adminUrl.toString(), bareName).catch(() => {});
    await db.drop();
    await rm(work, { recursive: true, force: true });
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

await main();
