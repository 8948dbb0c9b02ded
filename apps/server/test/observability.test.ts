import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { freePort } from '../src/platform/db/embedded.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createPlatform, type Platform } from '../src/platform/platform.ts';
import { testConfig } from './helpers/app.ts';
import { createTestDatabase } from './helpers/database.ts';

type App = Awaited<ReturnType<typeof buildApp>>;
const lines: Record<string, unknown>[] = [];
let raw = '';
let app: App;
let platform: Platform;
let teardown: () => Promise<void>;

const METRICS_TOKEN = 'metrics-secret-token';
const PASSWORD = 'correct horse battery staple 42';

beforeAll(async () => {
  const database = await createTestDatabase();
  const config = testConfig(database.url, {
    LOG_LEVEL: 'info',
    // a "replica" that is the primary itself: enough to see reads routed to the replica pool
    DATABASE_READ_URLS: database.url,
    // Redis configured but nothing listening: its failures are counted and fall back
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    METRICS_TOKEN,
    READYZ_TIMEOUT_MS: '10000', // a loaded CI machine must not turn a slow ping into "not ready"
  });
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      raw += chunk;
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger('info', destination);
  platform = await createPlatform({ config, logger, databaseUrl: database.url });
  app = await buildApp(platform, { docs: false });
  // test-only: a route that logs what must never reach a log in clear, and one that fails
  app.post('/test/log-secrets', async (request) => {
    request.log.info({ headers: request.headers, body: request.body }, 'echoing the request');
    return { ok: true };
  });
  app.get('/test/boom', async () => {
    throw new Error('kaboom');
  });
  await app.ready();
  teardown = async () => {
    await app.close();
    await platform.close();
    await database.drop();
  };
});

afterAll(async () => {
  await teardown?.();
});

const requestLines = () => lines.filter((l) => l.msg === 'request completed');

async function scrape(): Promise<string> {
  const res = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/** The value of one sample line, e.g. `kith_http_requests_total{method="GET",...}`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const has = Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`));
    if (has) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('request log line', () => {
  it('has request_id, user_id, method, route pattern, status, latency_ms and bytes', async () => {
    const signup = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { username: 'log_user', email: 'log@example.com', password: PASSWORD },
    });
    expect(signup.statusCode).toBe(201);
    const { accessToken, user } = signup.json();

    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'trace-me-1' },
    });
    expect(me.statusCode).toBe(200);
    const line = requestLines().find((l) => l.request_id === 'trace-me-1');
    expect(line).toMatchObject({
      level: 'info',
      request_id: 'trace-me-1',
      user_id: user.id,
      method: 'GET',
      route: '/api/v1/me',
      status: 200,
      bytes: Number(me.headers['content-length']),
    });
    expect(typeof line!.latency_ms).toBe('number');
    expect(line!.latency_ms as number).toBeGreaterThanOrEqual(0);
    expect(line).not.toHaveProperty('trace_id'); // tracing is off in this process

    // the route pattern, not the URL: ids never explode the label or log cardinality
    await app.inject({ method: 'GET', url: '/api/v1/nowhere/123' });
    expect(requestLines().at(-1)).toMatchObject({ route: 'unmatched', status: 404, level: 'warn' });
  });

  it('redacts Authorization, cookies, passwords and tokens', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/test/log-secrets',
      headers: {
        authorization: 'Bearer super-secret-access-token',
        cookie: 'kith_refresh=super-secret-cookie',
        'x-request-id': 'redact-1',
      },
      payload: {
        password: 'super-secret-password',
        refreshToken: 'super-secret-refresh',
        nested: { token: 'super-secret-nested', newPassword: 'super-secret-new' },
        visible: 'plain value',
      },
    });
    expect(res.statusCode).toBe(200);
    const echoed = lines.find((l) => l.msg === 'echoing the request' && l.request_id === 'redact-1');
    expect(echoed).toBeDefined();
    expect(raw).not.toContain('super-secret');
    expect(echoed).toMatchObject({
      headers: { authorization: '[redacted]', cookie: '[redacted]' },
      body: {
        password: '[redacted]',
        refreshToken: '[redacted]',
        nested: { token: '[redacted]', newPassword: '[redacted]' },
        visible: 'plain value',
      },
    });
  });

  it('logs a 5xx at error level with the cause, and the client sees no stack', async () => {
    const res = await app.inject({ method: 'GET', url: '/test/boom', headers: { 'x-request-id': 'boom-1' } });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toEqual({ code: 'INTERNAL', message: expect.any(String), requestId: 'boom-1' });
    expect(res.body).not.toContain('kaboom');
    const logged = lines.filter((l) => l.request_id === 'boom-1');
    expect(logged.find((l) => l.msg === 'unhandled error')).toMatchObject({
      level: 'error',
      err: { message: 'kaboom' },
    });
    expect(logged.find((l) => l.msg === 'request completed')).toMatchObject({ level: 'error', status: 500 });
  });
});

describe('/metrics', () => {
  it('needs the token', async () => {
    const none = await app.inject({ method: 'GET', url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('UNAUTHENTICATED');
    const wrong = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('counts requests by method, route and status, with a latency histogram', async () => {
    for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/livez' });
    await app.inject({ method: 'DELETE', url: '/livez' });
    const text = await scrape();
    expect(sample(text, 'kith_http_requests_total', { method: 'GET', route: '/livez', status: '200' })).toBe(
      3,
    );
    expect(sample(text, 'kith_http_requests_total', { method: 'DELETE', status: '405' })).toBe(1);
    expect(text).toContain('# TYPE kith_http_request_duration_seconds histogram');
    expect(sample(text, 'kith_http_request_duration_seconds_bucket', { route: '/livez', le: '+Inf' })).toBe(
      3,
    );
    expect(
      sample(text, 'kith_http_request_duration_seconds_bucket', { route: '/livez', le: '0.1' }),
    ).toBeDefined();
  });

  it('shows which pool served queries (primary or replica), query errors and pool connections', async () => {
    const before = await scrape();
    const replicaBefore = sample(before, 'kith_db_queries_total', { pool: 'replica', outcome: 'ok' }) ?? 0;
    const primaryBefore = sample(before, 'kith_db_queries_total', { pool: 'primary', outcome: 'ok' }) ?? 0;
    // one probe round: the "replica" (the primary itself here) is known to be up and in sync
    await platform.db.router.probe();
    await sql`SELECT 1`.execute(platform.db.reads);
    await sql`SELECT 2`.execute(platform.db.reads);
    await sql`SELECT 3`.execute(platform.db.primary);
    await expect(sql`SELECT 1 / 0`.execute(platform.db.primary)).rejects.toThrow(/division by zero/);
    const text = await scrape();
    expect(sample(text, 'kith_db_queries_total', { pool: 'replica', outcome: 'ok' })).toBe(replicaBefore + 2);
    // at least: with Redis down, background catch-up (realtime degraded mode) also queries the primary
    expect(sample(text, 'kith_db_queries_total', { pool: 'primary', outcome: 'ok' })).toBeGreaterThanOrEqual(
      primaryBefore + 1,
    );
    expect(
      sample(text, 'kith_db_queries_total', { pool: 'primary', outcome: 'error' }),
    ).toBeGreaterThanOrEqual(1);
    for (const pool of ['primary', 'replica'])
      for (const state of ['in_use', 'idle', 'waiting'])
        expect(sample(text, 'kith_db_pool_connections', { pool, state })).toBeGreaterThanOrEqual(0);
    expect(
      sample(text, 'kith_db_pool_connections', { pool: 'replica', state: 'idle' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts Redis errors while Redis is down (and the request still succeeds)', async () => {
    await platform.cache.set('k', 'v', 60);
    expect(await platform.cache.get('k')).toBe('v'); // served by the in-process fallback
    const text = await scrape();
    const errors = text
      .split('\n')
      .filter((l) => l.startsWith('kith_redis_errors_total{'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(errors).toBeGreaterThanOrEqual(1);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ status: 'degraded', checks: { redis: 'down', database: 'ok' } });
    expect(ready.statusCode).toBe(200);
  });

  it('includes process and event-loop metrics', async () => {
    const text = await scrape();
    for (const name of [
      'kith_process_cpu_seconds_total',
      'kith_process_resident_memory_bytes',
      'kith_nodejs_eventloop_lag_p99_seconds',
      'kith_nodejs_heap_size_used_bytes',
      'kith_load_shed_total',
    ])
      expect(text).toContain(`\n${name}`);
  });
});
