import type { Redis } from 'ioredis';
import type { RedisFailures } from '../redis/redis-failures.ts';
import { MemoryRateLimitStore } from './memory-rate-limit-store.ts';
import type { RateLimitResult, RateLimitStore } from './rate-limit-store.ts';

const PREFIX = 'kith:rl:';

/**
 * INCR and set the window's expiry atomically; returns the count and the ms left in the window.
 * A key that somehow lost its TTL gets one again rather than counting forever.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

type WithHit = Redis & { kithRateLimitHit(key: string, windowMs: number): Promise<[number, number]> };

/**
 * Fixed-window counters shared by every instance through Redis. While Redis fails, counting goes on
 * in per-instance counters: limits stay enforced (per instance), never closed for all, never lifted.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly fallback = new MemoryRateLimitStore();
  private readonly redis: WithHit;

  constructor(
    redis: Redis,
    private readonly failures: RedisFailures,
  ) {
    redis.defineCommand('kithRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = redis as WithHit;
  }

  async hit(key: string, windowMs: number): Promise<RateLimitResult> {
    try {
      const [count, resetMs] = await this.redis.kithRateLimitHit(PREFIX + key, windowMs);
      return { count, resetMs };
    } catch (err) {
      this.failures.record('rate_limit', err);
      return this.fallback.hit(key, windowMs);
    }
  }
}
