import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class PgToolsError extends Error {
  override name = 'PgToolsError';
}

/** pg_dump and pg_restore of one PostgreSQL major version. */
export interface PgTools {
  pgDump: string;
  pgRestore: string;
  major: number;
}

/** Directories that may hold the client binaries: PG_BIN_DIR, else the usual places, newest Debian version first. */
function candidates(binDir: string | undefined): string[] {
  if (binDir) return [binDir];
  const dirs = ['/usr/local/bin', '/usr/bin', '/usr/local/pgsql/bin'];
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  return dirs;
}

/**
 * Finds pg_dump/pg_restore able to handle a server of `serverMajor` (a dump needs a client at least
 * as new as the server). Throws with what was found and how to fix it.
 */
export async function findPgTools(serverMajor: number, binDir?: string): Promise<PgTools> {
  const seen: string[] = [];
  let best: PgTools | undefined;
  for (const dir of candidates(binDir)) {
    const pgDump = join(dir, 'pg_dump');
    const pgRestore = join(dir, 'pg_restore');
    if (!existsSync(pgDump) || !existsSync(pgRestore)) continue;
    const { stdout } = await run(pgDump, ['--version']).catch(() => ({ stdout: '' }));
    const major = Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1] ?? Number.NaN);
    if (!Number.isFinite(major)) continue;
    seen.push(`${pgDump} (${major})`);
    if (major >= serverMajor && (!best || major > best.major)) best = { pgDump, pgRestore, major };
  }
  if (best) return best;
  throw new PgToolsError(
    `no pg_dump/pg_restore of PostgreSQL ${serverMajor} or newer found (${seen.length ? `found ${seen.join(', ')}` : 'none found'}); install the client of that version (Debian: postgresql-client-${serverMajor}) or set PG_BIN_DIR`,
  );
}

/**
 * The connection for a PostgreSQL client binary, as libpq's environment variables (never on the
 * command line, where `ps` would show the password).
 */
export function pgConnectionEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const url = new URL(databaseUrl);
  // only what libpq needs: the child gets no other variable of ours (no secrets of the app)
  const env: NodeJS.ProcessEnv = {
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username),
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
  };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const sslrootcert = url.searchParams.get('sslrootcert');
  if (sslrootcert) env.PGSSLROOTCERT = sslrootcert;
  return env;
}

/** Spawns `binary` and rejects with its stderr when it exits non-zero. */
export function spawnPg(binary: string, args: string[], databaseUrl: string) {
  const child = spawn(binary, args, {
    env: pgConnectionEnv(databaseUrl),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 16_384) stderr += d;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new PgToolsError(`${binary} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
  return { child, stdout: child.stdout, done };
}
