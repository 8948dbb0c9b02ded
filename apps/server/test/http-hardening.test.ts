import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { until } from './helpers/wait.ts';

const { app } = await buildTestApp();

describe('HTTP errors and hostile input', () => {
  it('answers an unknown route with the error body', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'ROUTE_NOT_FOUND', message: expect.any(String), requestId: res.headers['x-request-id'] },
    });
  });

  it('answers a known route with the wrong method with 405 and Allow', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/livez' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expect(res.json().error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('keeps a well-formed X-Request-Id and replaces a hostile one', async () => {
    const kept = await app.inject({ method: 'GET', url: '/livez', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const long = await app.inject({
      method: 'GET',
      url: '/livez',
      headers: { 'x-request-id': 'a'.repeat(10_000) },
    });
    expect(long.headers['x-request-id']).not.toContain('aaaa');
    expect(String(long.headers['x-request-id'])).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses NUL in the URL', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/users/a%00b' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('NUL_CHARACTER');
  });

  it('sends security headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/livez' });
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('reports ready with database and migrations checked', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      checks: { database: 'ok', migrations: 'current', redis: 'none' },
    });
  });
});

describe('CORS, compression and HSTS', async () => {
  const { app: prod } = await buildTestApp({
    NODE_ENV: 'production',
    CORS_ORIGINS: 'https://app.kith.example',
    METRICS_TOKEN: 'metrics-token-for-tests',
    MEDIA_SIGNING_SECRET: 'media-signing-secret-for-tests-0123456789',
    JWT_SIGNING_KEY: (await import('node:crypto'))
      .generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  });

  it('allows only configured origins', async () => {
    const allowed = await prod.inject({
      method: 'OPTIONS',
      url: '/api/v1/me',
      headers: { origin: 'https://app.kith.example', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.kith.example');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    const foreign = await prod.inject({
      method: 'OPTIONS',
      url: '/api/v1/me',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends HSTS in production', async () => {
    const res = await prod.inject({ method: 'GET', url: '/livez' });
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
  });

  it('compresses bodies above 1 KiB with br or gzip, not small ones', async () => {
    const big = await app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(big.headers['content-encoding']).toBe('br');
    const gz = await app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const small = await app.inject({
      method: 'GET',
      url: '/livez',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(small.headers['content-encoding']).toBeUndefined();
  });
});

describe('load shedding', async () => {
  // a heap limit every process exceeds: under-pressure sheds from its first sample on
  const { app: pressed, platform } = await buildTestApp({ MAX_HEAP_USED_BYTES: '1' });
  // until under-pressure's first sample the attempts reach the handler (400) or the signup limit
  // (429); from then on shedding comes first, before any other hook
  const attempt = () =>
    pressed.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { username: 'shed_me' } });

  /** Resolves with the first shed answer: from under-pressure's first sample on, every attempt. */
  async function shedding() {
    let res = await attempt();
    await until(
      async () => {
        if (res.statusCode !== 503) res = await attempt();
        return res.statusCode === 503;
      },
      { what: 'load shedding to start' },
    );
    return res;
  }

  it('answers 503 with Retry-After and the error body, without running the handler', async () => {
    const res = await shedding();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('10');
    expect(res.json().error.code).toBe('OVERLOADED');
    expect(await platform.metrics.registry.getSingleMetricAsString('kith_load_shed_total')).toMatch(
      / [1-9]\d*$/m,
    );
  });

  it('keeps /livez and /metrics answering; /readyz reports the overload', async () => {
    await shedding();
    expect((await pressed.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    expect((await pressed.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    const ready = await pressed.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', checks: { load: 'overloaded' } });
  });
});
