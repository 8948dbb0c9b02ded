import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createMetrics, type Metrics } from '../src/platform/observability/metrics.ts';
import { createRedisAdapters, type RedisAdapters } from '../src/platform/redis/redis-adapters.ts';
import { startRedisServer, waitForHealth } from './helpers/redis-server.ts';

const redis = await startRedisServer();

async function instance(
  url = redis.url,
  connectTimeoutMs?: number,
): Promise<RedisAdapters & { metrics: Metrics }> {
  const metrics = createMetrics();
  const adapters = await createRedisAdapters(url, {
    logger: createLogger('silent'),
    metrics,
    connectTimeoutMs,
  });
  afterAll(() => adapters.close());
  return Object.assign(adapters, { metrics });
}

/** Subscribes (resolving once the subscription is in place) and gives the next message received. */
async function nextMessage(adapters: RedisAdapters, channel: string, timeoutMs = 10_000) {
  let resolve!: (message: unknown) => void;
  const message = new Promise<unknown>((r) => {
    resolve = r;
  });
  const unsubscribe = await adapters.broker.subscribe(channel, resolve);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message on ${channel}`)), timeoutMs);
  });
  return {
    received: Promise.race([message, timeout]).finally(async () => {
      clearTimeout(timer);
      await unsubscribe();
    }),
  };
}

/** Subscribes to each channel; `received` resolves once every one has had a message, with them in order. */
async function oneOnEach(adapters: RedisAdapters, channels: string[], timeoutMs = 10_000) {
  const got = new Map<string, { message: unknown; json: string }>();
  let resolve!: () => void;
  const all = new Promise<void>((r) => {
    resolve = r;
  });
  const offs = await Promise.all(
    channels.map((channel) =>
      adapters.broker.subscribe(channel, (message, json) => {
        got.set(channel, { message, json });
        if (got.size === channels.length) resolve();
      }),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not every one of ${channels} had a message`)), timeoutMs);
  });
  return {
    received: Promise.race([all, timeout])
      .then(() => channels.map((c) => got.get(c)!))
      .finally(async () => {
        clearTimeout(timer);
        await Promise.all(offs.map((off) => off()));
      }),
  };
}

/** One message published to several channels reaches each once, parsed once for all of them. */
async function expectPublishedToEach(from: RedisAdapters, to: RedisAdapters, channels: string[]) {
  const { received } = await oneOnEach(to, channels);
  await from.broker.publish(channels, { to: channels.length, nested: { a: [1] } });
  const each = await received;
  for (const { message, json } of each) {
    expect(message).toEqual({ to: channels.length, nested: { a: [1] } });
    expect(JSON.parse(json)).toEqual(message);
    // shared by every subscriber, so nobody may change it
    expect(message).toBe(each[0]!.message);
    expect(Object.isFrozen((message as { nested: { a: unknown } }).nested.a)).toBe(true);
  }
}

async function errorCount(metrics: Metrics, adapter: string): Promise<number> {
  const { values } = await metrics.redisErrors.get();
  return values.find((v) => v.labels.adapter === adapter)?.value ?? 0;
}

const beforeOutage: unknown[] = [];
const a = await instance();
const b = await instance();

describe('Redis adapters across two instances, through a Redis outage', () => {
  it('share cache, pub/sub and rate-limit counters while Redis is up', async () => {
    expect(a.healthy()).toBe(true);
    await a.cache.set('user:1', { name: 'ada' }, 60);
    expect(await b.cache.get('user:1')).toEqual({ name: 'ada' });
    await b.cache.delete('user:1');
    expect(await a.cache.get('user:1')).toBeUndefined();

    // subscribe() resolves once Redis has confirmed the subscription
    const { received } = await nextMessage(b, 'session.revoked');
    await a.broker.publish('session.revoked', { sessionId: 's1' });
    expect(await received).toEqual({ sessionId: 's1' });
    // one command for many channels (a group message to each member's channel)
    await expectPublishedToEach(a, b, ['up.1', 'up.2', 'up.3']);

    const first = await a.rateLimitStore.hit('login:ip:1.2.3.4', 60_000);
    const second = await b.rateLimitStore.hit('login:ip:1.2.3.4', 60_000);
    expect([first.count, second.count]).toEqual([1, 2]);
    expect(second.resetMs).toBeGreaterThan(0);
    expect(second.resetMs).toBeLessThanOrEqual(60_000);
  });

  it('falls back to in-process adapters when Redis is killed, counting each failure', async () => {
    await a.cache.set('kept', 1, 60);
    await b.broker.subscribe('before', (m) => beforeOutage.push(m));
    await redis.kill();
    await Promise.all([waitForHealth(a, false), waitForHealth(b, false)]);
    expect(a.broker.healthy).toBe(false);

    // cache: a miss, never an error; values written during the outage stay in this instance
    expect(await a.cache.get('kept')).toBeUndefined();
    await a.cache.set('outage', { v: 1 }, 60);
    expect(await a.cache.get('outage')).toEqual({ v: 1 });
    expect(await b.cache.get('outage')).toBeUndefined();

    // broker: local subscribers still get local messages
    const local = await nextMessage(a, 'local');
    await a.broker.publish('local', { n: 1 });
    expect(await local.received).toEqual({ n: 1 });
    await expectPublishedToEach(a, a, ['local.1', 'local.2']);

    // rate limits: per-instance counters, still counting
    expect((await a.rateLimitStore.hit('k', 60_000)).count).toBe(1);
    expect((await a.rateLimitStore.hit('k', 60_000)).count).toBe(2);
    expect((await b.rateLimitStore.hit('k', 60_000)).count).toBe(1);

    expect(await errorCount(a.metrics, 'cache')).toBeGreaterThan(0);
    expect(await errorCount(a.metrics, 'broker')).toBeGreaterThan(0);
    expect(await errorCount(a.metrics, 'rate_limit')).toBeGreaterThan(0);
  });

  it('returns to Redis by itself when Redis is back, subscriptions included', async () => {
    // subscriptions made before and during the outage are restored without anyone subscribing again
    const received: unknown[] = [];
    await b.broker.subscribe('feed', (m) => received.push(m));
    await redis.restart();
    await Promise.all([waitForHealth(a, true), waitForHealth(b, true)]);

    const viaRedis = await nextMessage(b, 'feed');
    await a.broker.publish('feed', { post: 7 });
    expect(await viaRedis.received).toEqual({ post: 7 });
    expect(received).toEqual([{ post: 7 }]);
    const before = await nextMessage(b, 'before');
    await a.broker.publish('before', 'again');
    expect(await before.received).toBe('again');
    expect(beforeOutage).toEqual(['again']);
    // the restarted Redis has forgotten the many-channel script: it is loaded again by itself
    await expectPublishedToEach(a, b, ['back.1', 'back.2']);

    expect((await a.rateLimitStore.hit('after', 60_000)).count).toBe(1);
    expect((await b.rateLimitStore.hit('after', 60_000)).count).toBe(2);
    await b.cache.set('after', 'x', 60);
    expect(await a.cache.get('after')).toBe('x');
    // values written to the fallback during the outage are not served once Redis is back
    expect(await a.cache.get('outage')).toBeUndefined();
  });

  it('fails fast on a hung Redis (command timeout) and returns to it once it answers', async () => {
    redis.pause();
    try {
      // no queueing behind a server that does not answer: the call times out and falls back
      expect((await a.rateLimitStore.hit('hung', 60_000)).count).toBe(1);
      expect(await a.cache.get('after')).toBeUndefined();
      await waitForHealth(a, false);
    } finally {
      redis.resume();
    }
    await waitForHealth(a, true);
    // (the timed-out INCR may still have been applied once Redis woke up: use a fresh key)
    expect((await a.rateLimitStore.hit('after-hang', 60_000)).count).toBe(1);
    expect((await b.rateLimitStore.hit('after-hang', 60_000)).count).toBe(2);
  });

  it('starts degraded, without failing, when Redis is unreachable at start', async () => {
    const down = await instance('redis://127.0.0.1:1', 200);
    expect(down.healthy()).toBe(false);
    expect(await down.cache.get('x')).toBeUndefined();
    expect((await down.rateLimitStore.hit('x', 1000)).count).toBe(1);
    expect((await down.rateLimitStore.hit('x', 1000)).count).toBe(2);
  });
});
