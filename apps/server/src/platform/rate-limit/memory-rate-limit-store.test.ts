import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from './memory-rate-limit-store.ts';

describe('MemoryRateLimitStore', () => {
  it('counts hits in a fixed window and resets when it ends', async () => {
    let now = 10_000;
    const store = new MemoryRateLimitStore(() => now);
    expect(await store.hit('k', 1_000)).toEqual({ count: 1, resetMs: 1_000 });
    now += 400;
    expect(await store.hit('k', 1_000)).toEqual({ count: 2, resetMs: 600 });
    now += 600;
    expect(await store.hit('k', 1_000)).toEqual({ count: 1, resetMs: 1_000 });
  });

  it('keeps keys apart', async () => {
    const store = new MemoryRateLimitStore(() => 0);
    await store.hit('a', 1_000);
    await store.hit('a', 1_000);
    expect((await store.hit('b', 1_000)).count).toBe(1);
  });
});
