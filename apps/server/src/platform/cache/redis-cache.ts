import type { Redis } from 'ioredis';
import type { RedisFailures } from '../redis/redis-failures.ts';
import type { Cache } from './cache.ts';
import { MemoryCache } from './memory-cache.ts';

const PREFIX = 'kith:cache:';
/** Values written during an outage live in this instance only; keep them short so staleness stays bounded. */
const FALLBACK_MAX_TTL_SECONDS = 30;
/** Deletes that failed are retried on reconnect (an invalidation must not be lost); bounded memory. */
const MAX_PENDING_DELETES = 10_000;

/**
 * Redis cache of JSON values with a TTL. While Redis fails, reads and writes go to an in-process
 * cache (a miss, unless this instance wrote the key during the outage) and failed deletes are
 * replayed once Redis is back.
 */
export class RedisCache implements Cache {
  private readonly fallback = new MemoryCache(1_000);
  private readonly pendingDeletes = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly failures: RedisFailures,
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    const json = await this.getJson(key);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  async getShared<T>(key: string): Promise<T | undefined> {
    // no fallback: this instance's outage-time values are not what another instance wrote
    const json = await this.redis.get(PREFIX + key);
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async getJson(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(PREFIX + key)) ?? undefined;
    } catch (err) {
      this.failures.record('cache', err);
      return this.fallback.getJson(key);
    }
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const json = JSON.stringify(value);
    try {
      await this.redis.set(PREFIX + key, json, 'PX', Math.max(1, Math.round(ttlSeconds * 1000)));
      this.pendingDeletes.delete(key);
    } catch (err) {
      this.failures.record('cache', err);
      await this.fallback.set(key, value, Math.min(ttlSeconds, FALLBACK_MAX_TTL_SECONDS));
    }
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.fallback.delete(...keys);
    try {
      await this.redis.del(...keys.map((k) => PREFIX + k));
    } catch (err) {
      this.failures.record('cache', err);
      for (const key of keys)
        if (this.pendingDeletes.size < MAX_PENDING_DELETES) this.pendingDeletes.add(key);
    }
  }

  /** Called when Redis is reachable again: replays lost invalidations and forgets outage-time values. */
  async recovered(): Promise<void> {
    this.fallback.clear();
    const keys = [...this.pendingDeletes];
    if (keys.length === 0) return;
    try {
      await this.redis.del(...keys.map((k) => PREFIX + k));
      for (const key of keys) this.pendingDeletes.delete(key);
    } catch (err) {
      this.failures.record('cache', err);
    }
  }
}
