import { type DehydratedState, dehydrate, hydrate, type QueryClient } from '@tanstack/react-query';
import { kv } from './kv.ts';
import { MEDIA_CACHE } from './sw-protocol.ts';

/** Screens whose last answer is worth reading offline (first element of the query key). */
const OFFLINE_READABLE = new Set(['feed', 'notifications', 'conversations', 'chat', 'post', 'me']);
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** At most one save a second while the cache changes; a pending one is written when the page hides. */
const SAVE_EVERY_MS = 1000;
/** Bumped when the shape of cached answers changes incompatibly: older caches are dropped. */
const BUSTER = 'kith-1';

/** What is kept per user: the shape TanStack's persisters use, so caches saved by them still load. */
interface SavedCache {
  buster: string;
  timestamp: number;
  clientState: DehydratedState;
}

/** Where the caches are kept (IndexedDB in the app; a map in unit tests). */
export interface SavedCacheStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

export const cacheKey = (userId: string) => `query-cache:${userId}`;

/**
 * Restores the user's last cache from IndexedDB into the query client, then keeps it saved
 * (throttled, and at once when the page is hidden or unloaded, so a reload right after a screen
 * loaded keeps it) under that user's key. Returns the function that stops saving.
 *
 * Hydrate and dehydrate come from the app's own TanStack Query: the persister packages bundled a
 * second query-core of another version.
 */
export async function attachPersistedCache(
  queryClient: QueryClient,
  userId: string,
  storage: SavedCacheStore = kv,
): Promise<() => void> {
  const key = cacheKey(userId);
  await restore(queryClient, key, storage);

  let attached = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastSave = 0;
  // writes in order: an older snapshot never lands after a newer one
  let writing: Promise<void> = Promise.resolve();
  const save = () => {
    timer = undefined;
    if (!attached) return;
    lastSave = Date.now();
    const saved: SavedCache = {
      buster: BUSTER,
      timestamp: lastSave,
      clientState: dehydrate(queryClient, {
        shouldDehydrateQuery: (query) =>
          query.state.status === 'success' && OFFLINE_READABLE.has(String(query.queryKey[0])),
        shouldDehydrateMutation: () => false,
      }),
    };
    const value = JSON.stringify(saved);
    // a save that comes after the user left must not bring their cache back
    writing = writing.then(() => (attached ? storage.set(key, value) : undefined)).catch(() => {});
  };
  const schedule = () => {
    timer ??= setTimeout(save, Math.max(0, lastSave + SAVE_EVERY_MS - Date.now()));
  };
  const flush = () => {
    if (timer === undefined) return;
    clearTimeout(timer);
    save();
  };
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') flush();
  };
  const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
    if (event.type === 'added' || event.type === 'removed' || event.type === 'updated') schedule();
  });
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('pagehide', flush);
  return () => {
    attached = false;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    unsubscribe();
    document.removeEventListener('visibilitychange', onVisibility);
    window.removeEventListener('pagehide', flush);
  };
}

async function restore(queryClient: QueryClient, key: string, storage: SavedCacheStore): Promise<void> {
  try {
    const raw = await storage.get<string>(key);
    if (raw === undefined) return;
    const saved = JSON.parse(raw) as SavedCache;
    if (saved.buster !== BUSTER || !(Date.now() - saved.timestamp <= MAX_AGE_MS)) {
      await storage.del(key);
      return;
    }
    hydrate(queryClient, saved.clientState);
  } catch {
    // unreadable: start without it rather than fail the app
    await storage.del(key).catch(() => {});
  }
}

/** Everything this device kept of a user who signed out: their cache and the media they saw. */
export async function forgetCache(userId: string): Promise<void> {
  await kv.del(cacheKey(userId));
  if (typeof caches !== 'undefined') await caches.delete(MEDIA_CACHE);
}
