/// <reference lib="webworker" />
/**
 * Web Push in the service worker (issue 10 item 7). The server pushes a notification while no socket
 * of the user is live (apps/server/src/modules/push): `{ type, id, text, url }`, the text already
 * worded, the url a path of this app. It is shown as a system notification (one per notification
 * id: a newer push replaces it); a click focuses an open tab of the app on that path, or opens one.
 */

/** A URL of this origin (a path, or absolute), else the notifications screen: a push never sends the user elsewhere. */
export function pushTarget(url: unknown, origin: string): string {
  const fallback = new URL('/notifications', origin).href;
  if (typeof url !== 'string') return fallback;
  try {
    const target = new URL(url, origin);
    return target.origin === origin ? target.href : fallback;
  } catch {
    return fallback;
  }
}

type PushScope = Pick<ServiceWorkerGlobalScope, 'addEventListener' | 'registration' | 'clients' | 'location'>;

/** Adds the `push` and `notificationclick` listeners to the worker's global scope. */
export function installPushHandlers(scope: PushScope): void {
  const origin = scope.location.origin;

  scope.addEventListener('push', (event) => {
    let data: { id?: unknown; text?: unknown; url?: unknown } = {};
    try {
      data = (event.data?.json() as typeof data | null) ?? {};
    } catch {
      // not JSON: still tell the user something happened
    }
    const body = typeof data.text === 'string' ? data.text.slice(0, 300) : '';
    event.waitUntil(
      scope.registration.showNotification('Kith', {
        body,
        icon: '/icons/icon-192.png',
        badge: '/icons/icon-192.png',
        ...(typeof data.id === 'string' ? { tag: data.id } : {}),
        data: { url: pushTarget(data.url, origin) },
      }),
    );
  });

  scope.addEventListener('notificationclick', (event) => {
    event.notification.close();
    const url = pushTarget((event.notification.data as { url?: unknown } | null)?.url, origin);
    event.waitUntil(
      (async () => {
        const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
        const open = windows.find((w) => new URL(w.url).origin === origin);
        if (open) {
          const focused = await open.focus();
          if (focused.url !== url) await focused.navigate(url).catch(() => scope.clients.openWindow(url));
          return;
        }
        await scope.clients.openWindow(url);
      })(),
    );
  });
}
