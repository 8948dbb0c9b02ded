import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { RoutePolicy } from '../src/platform/rate-limit/rate-limit-policy.ts';
import { buildTestApp } from './helpers/app.ts';

const TEN_MINUTES = 600_000;
const burst: RoutePolicy = { name: 'burst', limit: 2, windowMs: TEN_MINUTES, by: 'ip' };
const loginAccount: RoutePolicy = {
  name: 'login-account',
  limit: 2,
  windowMs: TEN_MINUTES,
  by: (request) => (request.body as { login: string }).login.toLowerCase(),
};

function testRoutes(app: FastifyInstance) {
  app.get('/test/plain', async () => ({ ok: true }));
  app.get('/test/burst', { config: { rateLimit: [burst] } }, async () => ({ ok: true }));
  app.get('/test/unlimited', { config: { rateLimit: false } }, async () => ({ ok: true }));
  app.post('/test/login', { config: { rateLimit: [loginAccount] } }, async () => ({ ok: true }));
}

const { app, platform } = await buildTestApp(
  { RATE_LIMIT_DEFAULT_PER_MINUTE: '5', TRUST_PROXY: '10.0.0.1' },
  { extend: testRoutes },
);

const get = (url: string, remoteAddress: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, remoteAddress, headers });

async function rateLimited(policy: string): Promise<number> {
  const { values } = await platform.metrics.rateLimited.get();
  return values.find((v) => v.labels.policy === policy)?.value ?? 0;
}

describe('rate limits', () => {
  it('applies the default policy per client with IETF draft headers, then 429 with Retry-After', async () => {
    const first = await get('/test/plain', '192.0.2.1');
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"default";q=5;w=60');
    expect(first.headers.ratelimit).toMatch(/^"default";r=4;t=(59|60)$/);
    for (let i = 0; i < 4; i++) expect((await get('/test/plain', '192.0.2.1')).statusCode).toBe(200);

    const before = await rateLimited('default');
    const refused = await get('/test/plain', '192.0.2.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        details: { policies: ['default'], retryAfterSeconds: expect.any(Number) },
        requestId: refused.headers['x-request-id'],
      },
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.ratelimit).toMatch(/^"default";r=0;t=\d+$/);
    expect(await rateLimited('default')).toBe(before + 1);

    // another client is not affected
    expect((await get('/test/plain', '192.0.2.2')).statusCode).toBe(200);
  });

  it('checks route policies in addition to the default one and announces both', async () => {
    const first = await get('/test/burst', '192.0.2.10');
    expect(first.headers['ratelimit-policy']).toBe('"default";q=5;w=60, "burst";q=2;w=600');
    expect(first.headers.ratelimit).toMatch(/^"default";r=4;t=\d+, "burst";r=1;t=(599|600)$/);
    expect((await get('/test/burst', '192.0.2.10')).statusCode).toBe(200);
    const refused = await get('/test/burst', '192.0.2.10');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details.policies).toEqual(['burst']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(60);
  });

  it('keys a function policy on the parsed body (per account, whatever the address)', async () => {
    const login = (ip: string, account: string) =>
      app.inject({ method: 'POST', url: '/test/login', remoteAddress: ip, payload: { login: account } });
    expect((await login('192.0.2.20', 'Ada')).statusCode).toBe(200);
    expect((await login('192.0.2.21', 'ada')).statusCode).toBe(200);
    const refused = await login('192.0.2.22', 'ADA');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details.policies).toEqual(['login-account']);
    expect((await login('192.0.2.22', 'grace')).statusCode).toBe(200);
  });

  it('never limits probes, metrics or routes that opt out', async () => {
    for (let i = 0; i < 8; i++) {
      for (const url of ['/livez', '/test/unlimited']) {
        const res = await get(url, '192.0.2.30');
        expect(res.statusCode).toBe(200);
        expect(res.headers.ratelimit).toBeUndefined();
        expect(res.headers['ratelimit-policy']).toBeUndefined();
      }
    }
  });

  it('limits unknown routes too', async () => {
    // under /api: any other unknown GET path is a client route of the web app (its index.html)
    const res = await get('/api/v1/nope', '192.0.2.40');
    expect(res.statusCode).toBe(404);
    expect(res.headers['ratelimit-policy']).toBe('"default";q=5;w=60');
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const codes = [];
    for (let i = 1; i <= 3; i++) {
      // a client rotating forged addresses is still counted on its own address
      const res = await get('/test/burst', '203.0.113.9', { 'x-forwarded-for': `198.51.100.${i}` });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([200, 200, 429]);
  });

  it('honours X-Forwarded-For from a trusted proxy', async () => {
    const viaProxy = (client: string) => get('/test/burst', '10.0.0.1', { 'x-forwarded-for': client });
    expect((await viaProxy('198.51.100.50')).statusCode).toBe(200);
    expect((await viaProxy('198.51.100.50')).statusCode).toBe(200);
    expect((await viaProxy('198.51.100.50')).statusCode).toBe(429);
    // the proxy itself is not the client: another client behind it has its own counter
    expect((await viaProxy('198.51.100.51')).statusCode).toBe(200);
  });

  it('refuses an invalid policy when the route is registered', async () => {
    const { default: Fastify } = await import('fastify');
    const { registerRateLimits } = await import('../src/platform/rate-limit/rate-limit-hooks.ts');
    const bare = Fastify();
    registerRateLimits(bare, platform);
    expect(() =>
      bare.get('/x', { config: { rateLimit: [{ ...burst, name: 'Bad "name"' }] } }, async () => 'x'),
    ).toThrow(/name must match/);
    await bare.close();
  });
});
