import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, postmasterPid, spawnServer, stopServer } from './helpers/process.ts';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kith-shutdown-'));
  await chmod(dataDir, 0o755); // as root, Postgres runs as the postgres user and must reach its directory
});

afterAll(async () => {
  // helpers/process.ts has killed whatever is left by now only if its own afterAll ran first;
  // the data dir goes once nothing runs in it
  const pid = postmasterPid(dataDir);
  if (!pid || !isAlive(pid)) await rm(dataDir, { recursive: true, force: true });
});

/** A client on the embedded database, found from its pid file and password file. */
async function embeddedClient(): Promise<pg.Client> {
  const pidFile = await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8');
  const port = Number(pidFile.split('\n')[3]);
  const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8')).trim();
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'kith', password, database: 'kith' });
  client.on('error', () => {}); // the server going away at the end is expected
  await client.connect();
  return client;
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const refused = (url: string) =>
  fetch(url, { headers: { connection: 'close' } }).then(
    () => false,
    () => true,
  );

describe('graceful shutdown (embedded shape, real process)', { timeout: 90_000 }, () => {
  it('on SIGTERM: refuses new connections, lets the in-flight request finish, stops Postgres last, exits 0', async () => {
    const server = await spawnServer({
      env: { DATA_DIR: dataDir, READYZ_TIMEOUT_MS: '30000', SHUTDOWN_TIMEOUT_MS: '30000' },
    });
    const holder = await embeddedClient();
    try {
      // a genuinely slow request: /readyz's migration check waits behind this lock
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE');
      let settled = false;
      const inFlight = fetch(`${server.url}/readyz`).then(async (res) => {
        settled = true;
        return { status: res.status, body: await res.json() };
      });
      await waitFor(async () => {
        const { rows } = await holder.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'schema_migrations'::regclass AND NOT granted`,
        );
        return rows[0].n > 0;
      }, 'the /readyz request to block on the lock');

      server.child.kill('SIGTERM');
      await server.waitForLog((l) => l.msg === 'shutting down');
      await waitFor(() => refused(`${server.url}/livez`), 'new connections to be refused');
      expect(settled).toBe(false); // still in flight
      expect(server.child.exitCode).toBeNull();

      await holder.query('COMMIT');
      const answer = await inFlight;
      // it completed (not reset); readiness already reads false
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ status: 'unavailable', checks: { shutdown: 'shutting down' } });
    } finally {
      await holder.end().catch(() => {});
    }

    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const order = server.logs.map((l) => l.msg).filter((m) => /closed|stopped/.test(String(m)));
    expect(order).toEqual(['http closed', 'worker stopped', 'platform closed', 'stopped']);
    // embedded Postgres stopped cleanly: its pid file is gone
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('restarts on the same data dir, and stops on SIGINT too', async () => {
    const server = await spawnServer({ env: { DATA_DIR: dataDir } });
    console.log(`start-to-ready, restart on an existing data dir: ${server.readyAfterMs} ms`);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await stopServer(server, 'SIGINT')).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('starts again after kill -9 left the embedded Postgres running', async () => {
    const crashed = await spawnServer({ env: { DATA_DIR: dataDir } });
    const orphan = postmasterPid(dataDir)!;
    expect(isAlive(orphan)).toBe(true);
    process.kill(crashed.child.pid!, 'SIGKILL');
    expect((await crashed.exited).signal).toBe('SIGKILL');
    expect(isAlive(orphan)).toBe(true); // kill -9 leaves Postgres behind, holding the data dir

    const server = await spawnServer({ env: { DATA_DIR: dataDir } });
    expect(server.logs.some((l) => String(l.msg).includes(`pid ${orphan}`))).toBe(true);
    expect(isAlive(orphan)).toBe(false);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await stopServer(server, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(postmasterPid(dataDir)).toBeUndefined();
  });
});
