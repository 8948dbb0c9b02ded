import { describe, expect, it } from 'vitest';
import { attemptsToCap, backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  const at = (random: number) => ({ baseMs: 500, capMs: 30_000, random: () => random });

  it('grows exponentially up to the cap, and the jitter spans the whole range', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 20, 1000].map((n) => backoffDelay(n, at(0.999999)));
    expect(ceilings).toEqual([499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999, 29999]);
    expect(backoffDelay(3, at(0))).toBe(0);
    expect(backoffDelay(3, at(0.5))).toBe(2000);
  });

  it('spreads clients: a thousand first retries land all over the window', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 1000 }, () =>
      backoffDelay(4, { baseMs: 500, capMs: 30_000, random }),
    );
    const buckets = new Set(delays.map((d) => Math.floor(d / 800)));
    expect(buckets.size).toBe(10); // every tenth of the 8 s window is used
    expect(Math.max(...delays)).toBeLessThan(8000);
  });

  it('knows the first attempt whose window is the whole cap', () => {
    expect(attemptsToCap({ baseMs: 500, capMs: 30_000, random: Math.random })).toBe(6);
    expect(backoffDelay(6, at(0.999999))).toBe(29999);
    expect(backoffDelay(5, at(0.999999))).toBeLessThan(29999);
    expect(attemptsToCap({ baseMs: 1000, capMs: 500, random: Math.random })).toBe(0);
  });
});
