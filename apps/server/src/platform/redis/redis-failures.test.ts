import { describe, expect, it } from 'vitest';
import type { Logger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { RedisFailures } from './redis-failures.ts';

describe('RedisFailures', () => {
  it('counts every failure but logs at most one line per adapter per interval', async () => {
    const lines: { adapter: string; suppressed: number }[] = [];
    const logger = {
      warn: (obj: { adapter: string; suppressed: number }) => lines.push(obj),
    } as unknown as Logger;
    const metrics = createMetrics();
    let now = 0;
    let calls = 0;
    const failures = new RedisFailures(
      logger,
      metrics,
      () => calls++,
      () => now,
    );
    for (let i = 0; i < 100; i++) failures.record('cache', new Error('ECONNREFUSED'));
    failures.record('rate_limit', new Error('ECONNREFUSED'));
    now += 10_000;
    failures.record('cache', new Error('ECONNREFUSED'));

    expect(lines.map((l) => [l.adapter, l.suppressed])).toEqual([
      ['cache', 0],
      ['rate_limit', 0],
      ['cache', 99],
    ]);
    expect(calls).toBe(102);
    const { values } = await metrics.redisErrors.get();
    expect(values.find((v) => v.labels.adapter === 'cache')?.value).toBe(101);
  });
});
