import { Redis } from 'ioredis';

/** How long one Redis command may take before the caller falls back to the in-process adapter. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

/**
 * An ioredis connection that fails fast instead of queueing: while Redis is unreachable every command
 * rejects at once (no offline queue, no per-request retries) and the adapters fall back. ioredis keeps
 * reconnecting in the background, so Redis is used again as soon as it answers.
 */
export function createRedisConnection(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    // Resubscription is the broker's job: it knows when it is complete and can report health.
    autoResubscribe: false,
    // Reconnect quickly at first, then at most once a second, forever.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
  });
}
