/// <reference lib="webworker" />
/**
 * Kith's service worker (built by vite-plugin-pwa's injectManifest into dist/sw.js, scope `/`).
 *
 * - The shell and every hashed asset are precached at install, so the app starts with no network;
 *   a new deploy installs beside the old one and waits until the page asks it to take over (the
 *   "update available — reload" prompt), so a running tab never mixes two builds.
 * - Navigations to client routes get the precached shell; the app reads its last data from the
 *   persisted query cache. Navigations to the server's own pages (docs, API) that fail get
 *   offline.html instead of the browser's error page.
 * - Media variants (thumb/large.webp, immutable per id) are cache-first, bounded in count and age;
 *   the page deletes that cache when its user signs out.
 * - API calls are never cached here: the query cache and the outbox own data.
 */
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import { ExpirationPlugin } from 'workbox-expiration';
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  matchPrecache,
  type PrecacheEntry,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute, setCatchHandler } from 'workbox-routing';
import { CacheFirst, NetworkOnly } from 'workbox-strategies';
import { MEDIA_CACHE, MEDIA_MAX_AGE_SECONDS, MEDIA_MAX_ENTRIES, SKIP_WAITING } from './sw-protocol.ts';
import { installPushHandlers } from './sw-push.ts';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | PrecacheEntry)[] };

/** The server's paths: never answered with the app's shell (the same list as the server's). */
const SERVER_PATHS = /^\/(?:api|openapi\.json|asyncapi\.json|docs|metrics|livez|readyz|media)(?:[/?.]|$)/;
/** A media variant: immutable for its id, whatever signature its query carries. */
const MEDIA_FILE = /\/media\/[^/]+\/(?:thumb|large)\.webp$/;

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

registerRoute(new NavigationRoute(createHandlerBoundToURL('/'), { denylist: [SERVER_PATHS] }));
// the server's own pages (API docs…) from the network; when that fails, the catch handler below
registerRoute(
  ({ request, url }) => request.mode === 'navigate' && SERVER_PATHS.test(url.pathname),
  new NetworkOnly(),
);

registerRoute(
  ({ request, url }) => request.destination === 'image' && MEDIA_FILE.test(url.pathname),
  new CacheFirst({
    cacheName: MEDIA_CACHE,
    plugins: [
      // signed URLs of private media change their query on every read; the file does not
      {
        cacheKeyWillBeUsed: async ({ request }) => {
          const url = new URL(request.url);
          url.search = '';
          return url.href;
        },
      },
      // cross-origin <img> from S3 answers opaque (status 0)
      new CacheableResponsePlugin({ statuses: [0, 200] }),
      new ExpirationPlugin({
        maxEntries: MEDIA_MAX_ENTRIES,
        maxAgeSeconds: MEDIA_MAX_AGE_SECONDS,
        purgeOnQuotaError: true,
      }),
    ],
  }),
);

setCatchHandler(async ({ request }) => {
  if (request.destination === 'document') {
    const page = await matchPrecache('/offline.html');
    if (page) return page;
  }
  return Response.error();
});

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | undefined)?.type === SKIP_WAITING) void self.skipWaiting();
});

// The first install takes the open pages at once (so they work offline from the first visit);
// later versions wait for the prompt.
self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

// ── Web Push (issue 10 item 7): the push and notificationclick handlers, in sw-push.ts ──────────
installPushHandlers(self);
