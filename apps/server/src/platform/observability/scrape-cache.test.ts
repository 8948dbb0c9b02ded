import { afterEach, describe, expect, it, vi } from 'vitest';
import { scrapeCache } from './scrape-cache.ts';

/** A read the test finishes by hand. */
function controlled<T>() {
  const pending: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  const read = vi.fn(
    () =>
      new Promise<T>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
  );
  return { read, pending };
}

describe('scrapeCache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reuses a value for the ttl: several gauges in one scrape cost one read', async () => {
    const { read, pending } = controlled<number>();
    const get = scrapeCache(read, 15_000);
    const first = get();
    pending[0]!.resolve(7);
    expect(await first).toBe(7);
    expect(await get()).toBe(7);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('answers with the last value when a read is slower than the deadline, and never piles reads up', async () => {
    vi.useFakeTimers();
    const { read, pending } = controlled<number>();
    const get = scrapeCache(read, 10_000, 1_000);
    const first = get();
    pending[0]!.resolve(1);
    expect(await first).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);

    // the database stalls: the scrape gets the last value after the deadline, not a hang
    const slow = get();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await slow).toBe(1);
    // the next scrape joins the read still running instead of starting another
    const again = get();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await again).toBe(1);
    expect(read).toHaveBeenCalledTimes(2);

    // the late read lands and fills the cache: the next scrape answers with it, no new read
    pending[1]!.resolve(5);
    await vi.advanceTimersByTimeAsync(0);
    expect(await get()).toBe(5);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('fails fast when there is no value yet (the gauge then keeps its own last value or stays unset)', async () => {
    vi.useFakeTimers();
    const { read } = controlled<number>();
    const get = scrapeCache(read, 0, 1_000);
    const slow = get();
    const outcome = expect(slow).rejects.toThrow(/took over 1000 ms/);
    await vi.advanceTimersByTimeAsync(1_000);
    await outcome;
  });

  it('answers with the last value when a read fails', async () => {
    const { read, pending } = controlled<number>();
    const get = scrapeCache(read, 0, 1_000);
    const first = get();
    pending[0]!.resolve(3);
    await first;
    const failing = get();
    pending[1]!.reject(new Error('connection refused'));
    expect(await failing).toBe(3);
  });
});
