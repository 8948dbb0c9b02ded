import type { Broker } from '../broker/broker.ts';
import type { Cache } from '../cache/cache.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RateLimitStore } from '../rate-limit/rate-limit-store.ts';

export interface RedisAdapters {
  cache: Cache;
  broker: Broker;
  rateLimitStore: RateLimitStore;
  healthy(): boolean;
  close(): Promise<void>;
}

/** Redis-backed adapters that fall back to in-process ones while Redis is unreachable. */
export function createRedisAdapters(url: string, deps: { logger: Logger; metrics: Metrics }): RedisAdapters {
  void url;
  void deps;
  throw new Error('Redis adapters: not built yet');
}
