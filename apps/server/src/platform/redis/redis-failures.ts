import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

export type RedisAdapterName = 'cache' | 'broker' | 'rate_limit' | 'connection';

/** Log at most one line per adapter per this interval; the metric still counts every failure. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Records a Redis failure that an adapter answered from its in-process fallback: counted in
 * `kith_redis_errors_total{adapter}` every time, logged once per adapter per interval with the
 * number of failures since the previous line, so an outage does not flood the log.
 */
export class RedisFailures {
  private readonly lastLogged = new Map<RedisAdapterName, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    /** Told of every failed adapter call (not of connection errors, which ioredis reports separately). */
    private readonly onCallFailed: () => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  record(adapter: RedisAdapterName, err: unknown): void {
    if (adapter !== 'connection') {
      this.metrics.redisErrors.inc({ adapter });
      this.onCallFailed();
    }
    const now = this.now();
    const last = this.lastLogged.get(adapter);
    if (last && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed += 1;
      return;
    }
    this.lastLogged.set(adapter, { at: now, suppressed: 0 });
    this.logger.warn(
      {
        component: 'redis',
        adapter,
        err: { message: (err as Error)?.message ?? String(err) },
        suppressed: last?.suppressed ?? 0,
      },
      adapter === 'connection'
        ? 'redis connection error'
        : 'redis call failed; served by the in-process fallback',
    );
  }
}
