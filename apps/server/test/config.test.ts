import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { SERVER_DIR } from './helpers/process.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kith-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('configuration', () => {
  it('stops the real process with a non-zero exit listing every problem at once', () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      DATABASE_POOL_SIZE: '0',
      MIGRATE_ON_START: 'maybe',
      KITH_ROLES: 'api,web',
      READYZ_TIMEOUT_MS: '1',
      REDIS_URL: 'not a url',
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://kith@127.0.0.1:1/kith',
    };
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: SERVER_DIR,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(78);
    expect(run.stdout).toBe(''); // nothing started, nothing logged
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('  - '));
    const named = lines.map((l) => l.slice(4).split(':')[0]);
    expect(named).toEqual([
      'KITH_ROLES',
      'PORT',
      'LOG_LEVEL',
      'DATABASE_POOL_SIZE',
      'MIGRATE_ON_START',
      'READYZ_TIMEOUT_MS',
      'JWT_SIGNING_KEY',
      'METRICS_TOKEN or METRICS_PORT',
      'MEDIA_SIGNING_SECRET',
      'REDIS_URL',
    ]);
    expect(run.stderr).toContain('LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent');
    expect(run.stderr).toContain('PORT: must be integer (got "eighty")');
  });

  it('lists more problems than the schema library reports by default (no cut-off)', () => {
    const env: Record<string, string> = {};
    for (const key of [
      'PORT',
      'DATABASE_POOL_SIZE',
      'DATABASE_STATEMENT_TIMEOUT_MS',
      'ACCESS_TOKEN_TTL_SECONDS',
      'REFRESH_TOKEN_TTL_DAYS',
      'BODY_LIMIT_BYTES',
      'JSON_MAX_DEPTH',
      'SHUTDOWN_TIMEOUT_MS',
      'READYZ_TIMEOUT_MS',
      'ARGON2_TIME_COST',
      'WORKER_CONCURRENCY',
      'IDEMPOTENCY_TTL_HOURS',
    ])
      env[key] = 'x';
    expect(problemsOf(env)).toHaveLength(12);
  });

  it('requires the secrets in production, with METRICS_PORT as an alternative to METRICS_TOKEN', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'JWT_SIGNING_KEY: required when NODE_ENV=production',
      'DATABASE_URL: required when NODE_ENV=production',
      'METRICS_TOKEN or METRICS_PORT: one is required when NODE_ENV=production',
      'MEDIA_SIGNING_SECRET: required when NODE_ENV=production',
    ]);
    const base = {
      NODE_ENV: 'production',
      JWT_SIGNING_KEY: 'key',
      DATABASE_URL: 'postgres://db.internal/kith',
      MEDIA_SIGNING_SECRET: 'a-media-signing-secret-of-32-chars-or-more',
    };
    expect(loadConfig({ ...base, METRICS_PORT: '9464' }).metrics.port).toBe(9464);
    expect(loadConfig({ ...base, METRICS_TOKEN: 't0ken' }).metrics.token).toBe('t0ken');
    // development needs none of them: the embedded shape generates its keys
    expect(loadConfig({}).shape).toBe('embedded');
  });

  it('reads NAME_FILE variants, refuses both forms at once, and names an unreadable file', async () => {
    const keyFile = join(dir, 'jwt.pem');
    const urlFile = join(dir, 'db-url');
    await writeFile(keyFile, 'PRIVATE KEY MATERIAL\n');
    await writeFile(urlFile, 'postgres://secret@db.internal/kith\n');
    const config = loadConfig({ JWT_SIGNING_KEY_FILE: keyFile, DATABASE_URL_FILE: urlFile });
    expect(config.jwt.signingKey).toBe('PRIVATE KEY MATERIAL');
    expect(config.database.url).toBe('postgres://secret@db.internal/kith');
    expect(config.shape).toBe('scaled');

    const problems = problemsOf({
      METRICS_TOKEN: 'a',
      METRICS_TOKEN_FILE: keyFile,
      SENTRY_DSN_FILE: join(dir, 'missing'),
    });
    expect(problems).toEqual([
      'METRICS_TOKEN and METRICS_TOKEN_FILE are both set; give only one',
      `SENTRY_DSN_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
    ]);
  });

  it('never echoes a secret in a problem', async () => {
    const urlFile = join(dir, 'bad-url');
    await writeFile(urlFile, 'hunter2-not-a-url');
    const problems = problemsOf({ DATABASE_URL_FILE: urlFile });
    expect(problems).toEqual(['DATABASE_URL: not a valid URL']);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('is frozen, all the way down', () => {
    const config = loadConfig({ DATABASE_READ_URLS: 'postgres://r1/kith,postgres://r2/kith' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
    expect(Object.isFrozen(config.database.readUrls)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.database.readUrls as string[]).push('x');
    }).toThrow(TypeError);
    expect(config.database.readUrls).toEqual(['postgres://r1/kith', 'postgres://r2/kith']);
  });

  it('converts types, applies defaults and takes --role from the command line', () => {
    const config = loadConfig(
      {
        PORT: '0',
        COOKIE_SECURE: 'false',
        MIGRATE_ON_START: 'false',
        DATA_DIR: 'var/kith',
        INIT_CWD: '/srv',
      },
      ['--role=worker'],
    );
    expect(config.port).toBe(0);
    expect(config.cookieSecure).toBe(false);
    expect(config.database.migrateOnStart).toBe(false);
    expect(config.dataDir).toBe('/srv/var/kith');
    expect([...config.roles]).toEqual(['worker']);
    expect(config.bodyLimit).toBe(65_536);
    expect(() => loadConfig({}, ['--role', 'web'])).toThrow(ConfigError);
  });

  it('is the only reader of process.env (main and CLIs hand it to loadConfig)', async () => {
    const src = join(SERVER_DIR, 'src');
    const offenders: string[] = [];
    for (const entry of await readdir(src, { recursive: true })) {
      const file = join(src, entry);
      if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file === join(src, 'config.ts')) continue;
      const text = await readFile(file, 'utf8');
      text.split('\n').forEach((line, i) => {
        const uses = line.match(/process\.env\b/g)?.length ?? 0;
        const allowed = line.match(/loadConfig\(process\.env\b/g)?.length ?? 0;
        if (uses > allowed) offenders.push(`${relative(SERVER_DIR, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
