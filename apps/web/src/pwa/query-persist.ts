import { createAsyncStoragePersister } from '@tanstack/query-async-storage-persister';
import {
  type PersistedQueryClientRestoreOptions,
  persistQueryClientRestore,
  persistQueryClientSubscribe,
} from '@tanstack/query-persist-client-core';
import type { Query, QueryClient } from '@tanstack/react-query';
import { kv } from './kv.ts';
import { MEDIA_CACHE } from './sw-protocol.ts';

/** Screens whose last answer is worth reading offline (first element of the query key). */
const OFFLINE_READABLE = new Set(['feed', 'notifications', 'conversations', 'chat', 'post', 'me']);
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Bumped when the shape of cached answers changes incompatibly: older caches are dropped. */
const BUSTER = 'kith-1';

export const cacheKey = (userId: string) => `query-cache:${userId}`;

/**
 * Restores the user's last cache from IndexedDB into the query client, then keeps it saved
 * (throttled) under that user's key. Returns the function that stops saving.
 */
export async function attachPersistedCache(queryClient: QueryClient, userId: string): Promise<() => void> {
  let attached = true;
  const persister = createAsyncStoragePersister({
    key: cacheKey(userId),
    throttleTime: 1000,
    storage: {
      getItem: (key) => kv.get<string>(key).then((v) => v ?? null),
      // a throttled save may come after the user left: it must not bring their cache back
      setItem: (key, value) => (attached ? kv.set(key, value) : Promise.resolve()),
      removeItem: (key) => kv.del(key),
    },
  });
  // the persister is built against its own copy of query-core; the client's shape is the same
  const client = queryClient as unknown as PersistedQueryClientRestoreOptions['queryClient'];
  await persistQueryClientRestore({ queryClient: client, persister, maxAge: MAX_AGE_MS, buster: BUSTER });
  const stop = persistQueryClientSubscribe({
    queryClient: client,
    persister,
    buster: BUSTER,
    dehydrateOptions: {
      shouldDehydrateQuery: (query) =>
        (query as unknown as Query).state.status === 'success' &&
        OFFLINE_READABLE.has(String((query as unknown as Query).queryKey[0])),
      shouldDehydrateMutation: () => false,
    },
  });
  return () => {
    attached = false;
    stop();
  };
}

/** Everything this device kept of a user who signed out: their cache and the media they saw. */
export async function forgetCache(userId: string): Promise<void> {
  await kv.del(cacheKey(userId));
  if (typeof caches !== 'undefined') await caches.delete(MEDIA_CACHE);
}
