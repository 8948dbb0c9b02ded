import { describe, expect, it } from 'vitest';
import { MemoryCache } from './memory-cache.ts';

describe('MemoryCache', () => {
  it('evicts the least recently used entry beyond its bound', async () => {
    const cache = new MemoryCache(2);
    await cache.set('a', 1, 60);
    await cache.set('b', 2, 60);
    await cache.get('a'); // a is now more recent than b
    await cache.set('c', 3, 60);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('c')).toBe(3);
  });

  it('expires entries after their TTL on the injected clock', async () => {
    let now = 1_000;
    const cache = new MemoryCache(10, () => now);
    await cache.set('k', { v: 1 }, 5);
    now += 4_999;
    expect(await cache.get('k')).toEqual({ v: 1 });
    now += 1;
    expect(await cache.get('k')).toBeUndefined();
  });

  it('returns copies, deletes and clears', async () => {
    const cache = new MemoryCache();
    const value = { list: [1] };
    await cache.set('k', value, 60);
    value.list.push(2);
    const read = await cache.get<{ list: number[] }>('k');
    expect(read).toEqual({ list: [1] });
    read!.list.push(3);
    expect(await cache.get('k')).toEqual({ list: [1] });
    await cache.set('other', 1, 60);
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
    cache.clear();
    expect(await cache.get('other')).toBeUndefined();
  });
});
