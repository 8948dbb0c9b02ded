import { describe, expect, it } from 'vitest';
import { MAX_ROUTES } from '../src/modules/rum/rum.service.ts';
import { buildTestApp } from './helpers/app.ts';

const { app, platform } = await buildTestApp();

const report = (body: unknown, ip = '203.0.113.7') =>
  app.inject({
    method: 'POST',
    url: '/api/v1/rum',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
    remoteAddress: ip,
  });

const metricsText = () => platform.metrics.registry.metrics();

const expectError = (
  res: { statusCode: number; headers: Record<string, unknown>; json(): { error: Record<string, unknown> } },
  status: number,
  code: string,
) => {
  expect(res.statusCode).toBe(status);
  expect(res.json()).toMatchObject({
    error: { code, message: expect.any(String), requestId: res.headers['x-request-id'] },
  });
};

describe('POST /api/v1/rum', () => {
  it('records Core Web Vitals as histograms by route, timings in seconds', async () => {
    const res = await report({
      route: '/posts/$postId',
      metrics: [
        { name: 'LCP', value: 1200 },
        { name: 'INP', value: 80 },
        { name: 'CLS', value: 0.02 },
        { name: 'TTFB', value: 150 },
        { name: 'FCP', value: 900 },
      ],
    });
    expect(res.statusCode).toBe(204);
    const text = await metricsText();
    expect(text).toContain('kith_rum_lcp_seconds_bucket{le="1.5",route="/posts/$postId"} 1');
    expect(text).toContain('kith_rum_lcp_seconds_bucket{le="1",route="/posts/$postId"} 0');
    expect(text).toContain('kith_rum_inp_seconds_sum{route="/posts/$postId"} 0.08');
    expect(text).toContain('kith_rum_cls_sum{route="/posts/$postId"} 0.02');
    expect(text).toContain('kith_rum_ttfb_seconds_count{route="/posts/$postId"} 1');
    expect(text).toContain('kith_rum_fcp_seconds_count{route="/posts/$postId"} 1');
  });

  it('needs no sign-in (a beacon carries no token)', async () => {
    const res = await report({ route: '/login', metrics: [{ name: 'LCP', value: 800 }] });
    expect(res.statusCode).toBe(204);
  });

  it.each([
    ['no body', undefined],
    [
      'a concrete URL instead of a route pattern',
      { route: 'https://kith.example/posts/1', metrics: [{ name: 'LCP', value: 1 }] },
    ],
    ['a query string in the route', { route: '/tags/x?user=ana', metrics: [{ name: 'LCP', value: 1 }] }],
    ['an unknown metric', { route: '/', metrics: [{ name: 'FID', value: 1 }] }],
    ['a negative value', { route: '/', metrics: [{ name: 'LCP', value: -1 }] }],
    ['an absurd value', { route: '/', metrics: [{ name: 'LCP', value: 1e12 }] }],
    ['no metrics', { route: '/', metrics: [] }],
    [
      'too many metrics',
      { route: '/', metrics: Array.from({ length: 11 }, () => ({ name: 'CLS', value: 0 })) },
    ],
    [
      'an extra field (personal data has no place here)',
      { route: '/', metrics: [{ name: 'LCP', value: 1 }], userId: 'x' },
    ],
    ['an extra field in a metric', { route: '/', metrics: [{ name: 'LCP', value: 1, url: '/users/ana' }] }],
    ['a route too long', { route: `/${'a'.repeat(200)}`, metrics: [{ name: 'LCP', value: 1 }] }],
  ])('refuses %s with 400', async (_, body) => {
    const res =
      body === undefined
        ? await app.inject({
            method: 'POST',
            url: '/api/v1/rum',
            headers: { 'content-type': 'application/json' },
          })
        : await report(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      message: expect.any(String),
      requestId: res.headers['x-request-id'],
    });
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/rum',
      headers: { 'content-type': 'text/plain' },
      payload: 'LCP=1',
    });
    expectError(res, 415, res.json().error.code as string);
  });

  it('refuses a body over 4 KiB with 413', async () => {
    const res = await report({ route: '/', metrics: [{ name: 'LCP', value: 1 }], pad: 'x'.repeat(5000) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.requestId).toBe(res.headers['x-request-id']);
  });

  it('keeps the route label set bounded: past the limit, new routes count as "other"', async () => {
    for (let i = 0; i < MAX_ROUTES + 5; i++) {
      const res = await report(
        { route: `/r${i}`, metrics: [{ name: 'CLS', value: 0.1 }] },
        `198.51.100.${i % 250}`,
      );
      expect(res.statusCode).toBe(204);
    }
    const text = await metricsText();
    const routes = new Set([...text.matchAll(/kith_rum_cls_count\{route="([^"]+)"\}/g)].map((m) => m[1]));
    expect(routes.size).toBeLessThanOrEqual(MAX_ROUTES + 1);
    expect(routes.has('other')).toBe(true);
    expect(routes.has(`/r${MAX_ROUTES + 4}`)).toBe(false);
  });

  it('is rate-limited per IP with Retry-After', async () => {
    const ip = '192.0.2.99';
    let res = await report({ route: '/', metrics: [{ name: 'LCP', value: 1 }] }, ip);
    expect(res.headers['ratelimit-policy']).toBeDefined();
    while (res.statusCode === 204)
      res = await report({ route: '/', metrics: [{ name: 'LCP', value: 1 }] }, ip);
    expectError(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
