import { QueryClient } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attachPersistedCache, cacheKey, type SavedCacheStore } from './query-persist.ts';

function memoryStore(): SavedCacheStore & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: async <T>(key: string) => map.get(key) as T | undefined,
    set: async (key, value) => {
      map.set(key, value);
    },
    del: async (key) => {
      map.delete(key);
    },
  };
}

const savedKeys = (store: ReturnType<typeof memoryStore>, userId: string): string[] => {
  const raw = store.map.get(cacheKey(userId));
  if (typeof raw !== 'string') return [];
  return (JSON.parse(raw) as { clientState: { queries: { queryHash: string }[] } }).clientState.queries.map(
    (q) => q.queryHash,
  );
};

/** Lets the store's promise chain settle (no timers involved). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('attachPersistedCache', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('saves the readable screens at most once a second, and restores them for the same user', async () => {
    const store = memoryStore();
    const client = new QueryClient();
    const detach = await attachPersistedCache(client, 'u1', store);
    client.setQueryData(['feed', 'home'], { pages: [1] });
    client.setQueryData(['settings'], { theme: 'dark' }); // not kept offline
    await vi.advanceTimersByTimeAsync(0);
    expect(savedKeys(store, 'u1')).toEqual(['["feed","home"]']);
    client.setQueryData(['post', 'p1'], { id: 'p1' });
    await vi.advanceTimersByTimeAsync(500);
    expect(savedKeys(store, 'u1')).toEqual(['["feed","home"]']);
    await vi.advanceTimersByTimeAsync(500);
    expect(savedKeys(store, 'u1')).toEqual(['["feed","home"]', '["post","p1"]']);
    detach();

    const next = new QueryClient();
    await attachPersistedCache(next, 'u1', store);
    expect(next.getQueryData(['post', 'p1'])).toEqual({ id: 'p1' });
    expect(next.getQueryData(['settings'])).toBeUndefined();
  });

  it('writes a pending save at once when the page is hidden (a reload right after a screen loaded keeps it)', async () => {
    const store = memoryStore();
    const client = new QueryClient();
    const detach = await attachPersistedCache(client, 'u1', store);
    client.setQueryData(['feed', 'home'], { pages: [] });
    await vi.advanceTimersByTimeAsync(0);
    client.setQueryData(['post', 'p1'], { id: 'p1' });
    client.setQueryData(['post', 'p1', 'comments'], { pages: [] });
    window.dispatchEvent(new Event('pagehide'));
    await settle();
    expect(savedKeys(store, 'u1')).toContain('["post","p1","comments"]');
    detach();
  });

  it('stops saving once detached, even a save already scheduled', async () => {
    const store = memoryStore();
    const client = new QueryClient();
    const detach = await attachPersistedCache(client, 'u1', store);
    client.setQueryData(['feed', 'home'], { pages: [] });
    await vi.advanceTimersByTimeAsync(0);
    client.setQueryData(['post', 'p1'], { id: 'p1' });
    detach();
    await vi.advanceTimersByTimeAsync(2000);
    window.dispatchEvent(new Event('pagehide'));
    await settle();
    expect(savedKeys(store, 'u1')).toEqual(['["feed","home"]']);
  });

  it('drops a cache that is unreadable, too old or of another shape', async () => {
    for (const raw of [
      '{not json',
      JSON.stringify({
        buster: 'kith-0',
        timestamp: Date.now(),
        clientState: { queries: [], mutations: [] },
      }),
      JSON.stringify({ buster: 'kith-1', timestamp: Date.now() - 8 * 24 * 3600 * 1000, clientState: {} }),
    ]) {
      const store = memoryStore();
      store.map.set(cacheKey('u1'), raw);
      const detach = await attachPersistedCache(new QueryClient(), 'u1', store);
      expect(store.map.has(cacheKey('u1'))).toBe(false);
      detach();
    }
  });
});
