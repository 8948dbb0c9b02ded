import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { bearer, GENEROUS_AUTH_LIMITS, login, uniqueUsername } from './helpers/factories.ts';
import { SERVER_DIR } from './helpers/process.ts';

const t = await buildTestApp(GENEROUS_AUTH_LIMITS);
const dir = await mkdtemp(join(tmpdir(), 'kith-admin-cli-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs `npm run admin -- …`'s entry as a real process against this file's database. */
function runCli(
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], {
      cwd: SERVER_DIR,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: t.databaseUrl,
        DATA_DIR: dir,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
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
    child.stdin.end(stdin);
  });
}

// each case starts real processes (tsx compiles on start): generous time on a busy 2-core machine
describe('npm run admin -- create-admin', { timeout: 180_000 }, () => {
  it('creates an admin from a password file, who can sign in and use admin routes', async () => {
    const username = uniqueUsername('boss');
    const file = join(dir, 'pw');
    await writeFile(file, 'a long admin passphrase\n', { mode: 0o600 });
    const res = await runCli([
      'create-admin',
      '--username',
      username,
      '--email',
      `${username}@example.com`,
      '--password-file',
      file,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ created: 'admin', username, id: expect.any(String) });

    const tokens = await login(t.app, username, 'a long admin passphrase');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tokens.accessToken) });
    expect(me.json().role).toBe('admin');
    const log = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/audit-log',
      headers: bearer(tokens.accessToken),
    });
    expect(log.statusCode).toBe(200);
    expect(
      log
        .json()
        .items.some(
          (i: { action: string; targetId: string }) =>
            i.action === 'admin.create_admin' && i.targetId === JSON.parse(res.stdout).id,
        ),
    ).toBe(true);
  });

  it('reads the password from standard input', async () => {
    const username = uniqueUsername('boss');
    const res = await runCli(
      ['create-admin', '--username', username, '--email', `${username}@example.com`],
      'piped admin passphrase\n',
    );
    expect(res.code, res.stderr).toBe(0);
    await login(t.app, username, 'piped admin passphrase');
  });

  it('refuses bad usage, weak passwords and taken names with a message and a non-zero exit', async () => {
    const username = uniqueUsername('boss');
    const weak = await runCli(
      ['create-admin', '--username', username, '--email', `${username}@example.com`],
      'password123\n',
    );
    expect(weak.code).toBe(64);
    expect(weak.stderr).toMatch(/too common/);
    const noCommand = await runCli([]);
    expect(noCommand.code).toBe(64);
    expect(noCommand.stderr).toMatch(/usage: npm run admin/);
    const unknownFlag = await runCli(['create-admin', '--username', username, '--role', 'x']);
    expect(unknownFlag.code).toBe(64);

    const first = await runCli(
      ['create-admin', '--username', username, '--email', `${username}@example.com`],
      'a long admin passphrase',
    );
    expect(first.code, first.stderr).toBe(0);
    const taken = await runCli(
      ['create-admin', '--username', username.toUpperCase(), '--email', 'other@example.com'],
      'a long admin passphrase',
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/username is taken/);
  });
});
