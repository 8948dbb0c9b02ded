import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { freePort } from '../src/platform/db/embedded.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createPlatform, type Platform } from '../src/platform/platform.ts';
import { buildTestApp, testConfig } from './helpers/app.ts';

describe('health with the database down', () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  let platform: Platform;

  beforeAll(async () => {
    // nothing listens there: /livez must not care, /readyz must say so within its timeout
    const url = `postgres://kith@127.0.0.1:${await freePort()}/kith`;
    const config = testConfig(url, { READYZ_TIMEOUT_MS: '500' });
    platform = await createPlatform({ config, logger: createLogger('silent'), databaseUrl: url });
    app = await buildApp(platform, { docs: false });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await platform?.close();
  });

  it('/livez answers 200 without calling any dependency', async () => {
    const res = await app.inject({ method: 'GET', url: '/livez' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(platform.db.primaryPool.totalCount).toBe(0); // not even a connection attempt
  });

  it('/readyz answers 503 with the reason', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'unavailable',
      checks: { database: expect.stringMatching(/^unreachable: /), shutdown: 'no' },
    });
  });
});

describe('health with the database up', () => {
  it('/readyz is ready, turns unavailable at once on shutdown and reports pending migrations', async () => {
    const { app, platform } = await buildTestApp({ READYZ_TIMEOUT_MS: '10000' });
    const ok = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      status: 'ok',
      checks: {
        load: 'ok',
        database: 'ok',
        migrations: 'current',
        shutdown: 'no',
        redis: 'none',
        media_storage: 'ok',
      },
    });

    await platform.db.primaryPool.query(
      'DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)',
    );
    const pending = await app.inject({ method: 'GET', url: '/readyz' });
    expect(pending.statusCode).toBe(503);
    expect(pending.json().checks.migrations).toBe('1 pending');

    platform.state.shuttingDown = true;
    const stopping = await app.inject({ method: 'GET', url: '/readyz' });
    expect(stopping.statusCode).toBe(503);
    expect(stopping.json()).toMatchObject({ status: 'unavailable', checks: { shutdown: 'shutting down' } });
    // liveness is not readiness: the process is still alive while it drains
    expect((await app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
  });

  it('/readyz with Redis configured but down: still 200, reported as degraded', async () => {
    const { app } = await buildTestApp({
      READYZ_TIMEOUT_MS: '10000',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', checks: { database: 'ok', redis: 'down' } });
  });
});
