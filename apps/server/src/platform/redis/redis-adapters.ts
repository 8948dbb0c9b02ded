import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Broker } from '../broker/broker.ts';
import { RedisBroker } from '../broker/redis-broker.ts';
import type { Cache } from '../cache/cache.ts';
import { RedisCache } from '../cache/redis-cache.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.ts';
import { RedisRateLimitStore } from '../rate-limit/redis-rate-limit-store.ts';
import { createRedisConnection } from './redis-connection.ts';
import { RedisFailures } from './redis-failures.ts';

export interface RedisAdapters {
  cache: Cache;
  broker: Broker;
  rateLimitStore: RateLimitStore;
  /** true while both connections are up and every broker channel is subscribed. */
  healthy(): boolean;
  /** Calls `listener` each time `healthy()` changes; returns a function that stops listening. */
  onHealthChange(listener: (healthy: boolean) => void): () => void;
  close(): Promise<void>;
}

export interface RedisAdapterOptions {
  logger: Logger;
  metrics: Metrics;
  /** How long to wait for the first connection before starting degraded. */
  connectTimeoutMs?: number;
}

/** While a command failed on a connection that still looks open (a hung Redis), probe with PING. */
const PROBE_INTERVAL_MS = 1_000;

/**
 * Redis-backed adapters (cache, broker, rate-limit store) over two connections, a command one and a
 * subscriber one. Each falls back to its in-process twin while Redis fails and returns to Redis by
 * itself once ioredis has reconnected. Resolves once connected, or after `connectTimeoutMs` degraded:
 * a Redis outage never stops the process from starting.
 */
export async function createRedisAdapters(url: string, options: RedisAdapterOptions): Promise<RedisAdapters> {
  const { logger, metrics } = options;
  const commands = createRedisConnection(url, 'kith');
  const subscriber = createRedisConnection(url, 'kith-sub');
  const events = new EventEmitter();
  let lastHealthy = false;
  let commandFailing = false;
  let probe: NodeJS.Timeout | undefined;

  const healthy = () => commands.status === 'ready' && broker.healthy && !commandFailing;
  const update = () => {
    const now = healthy();
    if (now === lastHealthy) return;
    lastHealthy = now;
    logger[now ? 'info' : 'warn'](
      { component: 'redis' },
      now ? 'redis is up: adapters use Redis' : 'redis is down: adapters fall back to in-process',
    );
    events.emit('health', now);
  };

  const failures = new RedisFailures(logger, metrics, () => {
    if (commandFailing) return;
    commandFailing = true;
    update();
    probe = setInterval(() => {
      if (commands.status === 'ready') commands.ping().then(clearFailing, () => {});
    }, PROBE_INTERVAL_MS).unref();
  });
  const clearFailing = () => {
    clearInterval(probe);
    probe = undefined;
    if (!commandFailing) return;
    commandFailing = false;
    update();
  };

  const cache = new RedisCache(commands, failures);
  const rateLimitStore = new RedisRateLimitStore(commands, failures);
  const broker = new RedisBroker(commands, subscriber, failures, logger, update);

  for (const connection of [commands, subscriber] as Redis[]) {
    connection.on('error', (err: Error) => failures.record('connection', err));
    connection.on('close', update);
    connection.on('end', update);
  }
  commands.on('ready', () => {
    clearFailing();
    update();
    void cache.recovered();
  });
  subscriber.on('ready', update);

  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    const up = (now: boolean) => now && done();
    const done = () => {
      clearTimeout(timer);
      events.off('health', up);
      resolve();
    };
    timer = setTimeout(done, options.connectTimeoutMs ?? 2_000);
    events.on('health', up);
  });
  if (!healthy()) logger.warn({ component: 'redis' }, 'redis unreachable at start: running degraded');

  return {
    cache,
    broker,
    rateLimitStore,
    healthy,
    onHealthChange(listener) {
      events.on('health', listener);
      return () => events.off('health', listener);
    },
    async close() {
      clearInterval(probe);
      events.removeAllListeners();
      await broker.close();
      await Promise.all(
        [commands, subscriber].map(async (connection) => {
          if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
          else connection.disconnect();
        }),
      );
    },
  };
}
