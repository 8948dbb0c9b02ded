import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Point-in-time recovery on the machine's PostgreSQL binaries, with the WAL archiving configuration
 * docs/backups.md gives operators: base backup + archived WAL → recover to a timestamp between two
 * commits → the first is there, the second is not.
 */
const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
const haveBinaries = existsSync(join(BIN, 'pg_basebackup'));
// initdb and postgres refuse to run as root: run them as the postgres user then
const asUser: { uid: number; gid: number } | undefined =
  userInfo().uid === 0
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
      }
    : undefined;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

const pgBin = (name: string, args: string[]) =>
  run(join(BIN, name), args, { ...(asUser ?? {}), env: { ...process.env, PGUSER: 'postgres' } });

const started: string[] = [];
let base: string | undefined;
afterAll(async () => {
  for (const dir of started) await pgBin('pg_ctl', ['stop', '-D', dir, '-m', 'immediate']).catch(() => {});
  if (base) await rm(base, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe.skipIf(!haveBinaries)('point-in-time recovery (WAL archiving, docs/backups.md)', () => {
  it('recovers to a timestamp from a base backup and the archived WAL', async () => {
    base = await mkdtemp(join(tmpdir(), 'kith-pitr-'));
    await chmod(base, 0o755);
    const primary = join(base, 'primary');
    const archive = join(base, 'archive');
    const restored = join(base, 'restored');
    const sockets = join(base, 'sockets');
    for (const dir of [primary, archive, restored, sockets]) {
      await mkdir(dir, { mode: 0o700 });
      if (asUser) await chown(dir, asUser.uid, asUser.gid);
    }
    const port = await freePort();
    await pgBin('initdb', ['-D', primary, '-U', 'postgres', '-A', 'trust', '--no-sync']);
    // the archiving settings of docs/backups.md, with the archive on local disk
    await writeFile(
      join(primary, 'postgresql.auto.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${sockets}'`,
        'wal_level = replica',
        'archive_mode = on',
        `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
        'fsync = off',
      ].join('\n'),
    );
    await pgBin('pg_ctl', ['start', '-w', '-D', primary, '-l', join(primary, 'log')]);
    started.push(primary);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query(
      'CREATE TABLE ledger (i int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())',
    );
    await db.query('INSERT INTO ledger (i) SELECT generate_series(1, 100)');

    await pgBin('pg_basebackup', [
      '-D',
      restored,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-X',
      'stream',
      '--no-sync',
    ]);

    await db.query('INSERT INTO ledger (i) SELECT generate_series(101, 200)');
    const { rows } = await db.query<{ target: string }>(
      `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS target`,
    );
    const target = rows[0]!.target;
    // committed after the target: must not come back
    await db.query('INSERT INTO ledger (i) SELECT generate_series(201, 300)');
    const { rows: sw } = await db.query<{ wal: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS wal');
    await waitFor('the last WAL segment to be archived', async () => {
      const { rows: a } = await db.query<{ last: string | null }>(
        'SELECT last_archived_wal AS last FROM pg_stat_archiver',
      );
      return a[0]!.last && a[0]!.last >= sw[0]!.wal ? true : undefined;
    });
    await db.end();
    await pgBin('pg_ctl', ['stop', '-w', '-D', primary, '-m', 'fast']);
    started.splice(started.indexOf(primary), 1);

    // the recovery: base backup + restore_command from the archive + a target time
    const restoredPort = await freePort();
    await writeFile(
      join(restored, 'postgresql.auto.conf'),
      [
        `port = ${restoredPort}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${sockets}'`,
        'archive_mode = off',
        `restore_command = 'cp ${archive}/%f %p'`,
        `recovery_target_time = '${target}'`,
        `recovery_target_action = 'promote'`,
      ].join('\n'),
    );
    await writeFile(join(restored, 'recovery.signal'), '');
    if (asUser) await chown(join(restored, 'recovery.signal'), asUser.uid, asUser.gid);
    await pgBin('pg_ctl', ['start', '-w', '-D', restored, '-l', join(restored, 'log')]);
    started.push(restored);
    const check = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${restoredPort}/postgres`,
    });
    await check.connect();
    try {
      await waitFor('recovery to end (promotion)', async () => {
        const { rows: r } = await check.query<{ rec: boolean }>('SELECT pg_is_in_recovery() AS rec');
        return r[0]!.rec ? undefined : true;
      });
      const { rows: c } = await check.query<{ n: number; max: number }>(
        'SELECT count(*)::int AS n, max(i) AS max FROM ledger',
      );
      expect(c[0]).toEqual({ n: 200, max: 200 });
    } finally {
      await check.end();
    }
  }, 120_000);
});
