import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Platform } from '../src/platform/platform.ts';
import { buildTestApp } from './helpers/app.ts';
import { platformHealth, startRedisServer, waitForHealth } from './helpers/redis-server.ts';

const redis = await startRedisServer();

const limited = (app: FastifyInstance) => {
  app.get(
    '/test/limited',
    { config: { rateLimit: [{ name: 'shared', limit: 4, windowMs: 600_000, by: 'ip' }] } },
    async () => ({ ok: true }),
  );
};

// two instances of the app on one Redis, as behind a load balancer
const one = await buildTestApp({ REDIS_URL: redis.url }, { extend: limited });
const two = await buildTestApp({ REDIS_URL: redis.url }, { extend: limited });

const hit = (instance: { app: FastifyInstance }, client: string) =>
  instance.app.inject({ method: 'GET', url: '/test/limited', remoteAddress: client });

async function statuses(instance: { app: FastifyInstance }, client: string, n: number): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) codes.push((await hit(instance, client)).statusCode);
  return codes;
}

async function redisErrors(platform: Platform, adapter: string): Promise<number> {
  const { values } = await platform.metrics.redisErrors.get();
  return values.find((v) => v.labels.adapter === adapter)?.value ?? 0;
}

describe('rate limits on Redis, across instances and through a Redis outage', () => {
  it('shares counters between instances', async () => {
    expect(one.platform.redisHealth()).toBe('up');
    expect(await statuses(one, '192.0.2.1', 2)).toEqual([200, 200]);
    expect(await statuses(two, '192.0.2.1', 2)).toEqual([200, 200]);
    const refused = await hit(one, '192.0.2.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers.ratelimit).toMatch(/"shared";r=0;t=\d+$/);
    expect((await hit(two, '192.0.2.1')).statusCode).toBe(429);
  });

  it('keeps serving with per-instance limits, still enforced, while Redis is killed', async () => {
    await redis.kill();
    await Promise.all([
      waitForHealth(platformHealth(one.platform), false),
      waitForHealth(platformHealth(two.platform), false),
    ]);

    // each instance now counts on its own: 4 allowed on each, then refused
    expect(await statuses(one, '192.0.2.2', 5)).toEqual([200, 200, 200, 200, 429]);
    expect(await statuses(two, '192.0.2.2', 5)).toEqual([200, 200, 200, 200, 429]);
    expect(await redisErrors(one.platform, 'rate_limit')).toBeGreaterThan(0);

    const ready = await one.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', checks: { redis: 'down' } });
  });

  it('returns to shared counters by itself when Redis is back on the same port', async () => {
    await redis.restart();
    await Promise.all([
      waitForHealth(platformHealth(one.platform), true),
      waitForHealth(platformHealth(two.platform), true),
    ]);

    expect(await statuses(one, '192.0.2.3', 2)).toEqual([200, 200]);
    expect(await statuses(two, '192.0.2.3', 2)).toEqual([200, 200]);
    expect((await hit(two, '192.0.2.3')).statusCode).toBe(429);
    expect((await hit(one, '192.0.2.3')).statusCode).toBe(429);

    const ready = await two.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ status: 'ok', checks: { redis: 'up' } });
  });
});
