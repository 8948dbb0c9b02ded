import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/platform/db/embedded.ts';
import { isAlive, postmasterPid, type ServerProcess, spawnServer, waitForExit } from './helpers/process.ts';

const dataDirs: string[] = [];

afterAll(async () => {
  // a data dir whose Postgres is still running (a failed test) is left for killAll to stop first
  for (const dir of dataDirs) {
    const pid = postmasterPid(dir);
    if (!pid || !isAlive(pid)) await rm(dir, { recursive: true, force: true });
  }
});

/** An empty data dir of the calling test's own. */
async function emptyDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-npm-start-'));
  await chmod(dir, 0o755); // as root, Postgres runs as the postgres user and must reach its directory
  dataDirs.push(dir);
  return dir;
}

/** `npm start` exactly as a user runs it, with nothing configured but where to keep data and which port. */
const npmStart = async (dataDir: string) => {
  const port = await freePort();
  const server = await spawnServer({
    command: 'npm',
    env: { NODE_ENV: 'development', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' },
    readyTimeoutMs: 90_000,
  });
  expect(server.url).toBe(`http://127.0.0.1:${port}`);
  return server;
};

/** Signs up a user over HTTP; returns the access token. */
async function signUp(server: ServerProcess): Promise<string> {
  const signup = await fetch(`${server.url}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username: 'first_user',
      email: 'first@example.com',
      password: 'a long and unusual passphrase 7',
    }),
  });
  expect(signup.status).toBe(201);
  const body = (await signup.json()) as { user: { username: string }; accessToken: string };
  expect(body.user).toMatchObject({ username: 'first_user' });
  return body.accessToken;
}

/**
 * Stops `npm start` as a terminal (Ctrl-C) or a process supervisor does: the signal goes to the
 * whole process group. npm itself then dies by that signal (npm's own behaviour); what matters is
 * Kith's node process, which must finish its shutdown and exit 0 (it logs "stopped" right before
 * `process.exit(0)`), leaving no Postgres behind.
 */
async function stopGroup(server: ServerProcess, dataDir: string, signal: NodeJS.Signals): Promise<void> {
  const nodePid = Number(server.logs.find((l) => typeof l.pid === 'number')!.pid);
  process.kill(-server.child.pid!, signal);
  await server.exited;
  await waitForExit(nodePid);
  await server.waitForLog((l) => l.msg === 'stopped', 1000).catch(() => {});
  const shutdown = server.logs.filter((l) => l.pid === nodePid).map((l) => l.msg);
  expect(shutdown).toContain('shutting down');
  expect(shutdown.at(-1)).toBe('stopped');
  expect(server.stderr()).not.toMatch(/failed|error/i);
  expect(postmasterPid(dataDir)).toBeUndefined();
}

describe('npm start (embedded shape, real entry point)', { timeout: 240_000 }, () => {
  it('starts from an empty data dir, serves the API and signs up a user over HTTP', async () => {
    const dataDir = await emptyDataDir();
    const server = await npmStart(dataDir);
    console.log(`start-to-ready, npm start on an empty data dir: ${server.readyAfterMs} ms`);
    expect(server.logs.find((l) => String(l.msg).startsWith('starting Kith'))).toMatchObject({
      shape: 'embedded',
    });
    expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', checks: { migrations: 'current' } });
    await signUp(server);

    await stopGroup(server, dataDir, 'SIGINT');
  });

  it('restarts on the same data dir with the data and the signing keys kept', async () => {
    const dataDir = await emptyDataDir();
    const first = await npmStart(dataDir);
    const accessToken = await signUp(first);
    await stopGroup(first, dataDir, 'SIGINT');

    const server = await npmStart(dataDir);
    console.log(`start-to-ready, npm start restart: ${server.readyAfterMs} ms`);
    // the access token issued before the restart still verifies: the generated key was kept under DATA_DIR
    const me = await fetch(`${server.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username: 'first_user' });
    await stopGroup(server, dataDir, 'SIGTERM');
  });
});
