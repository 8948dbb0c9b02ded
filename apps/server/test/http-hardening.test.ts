import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';

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
