import { api, call } from '../api/client.ts';
import { ApiError } from '../api/errors.ts';

/** This device's Web Push state: whether the server offers it, and whether this browser is subscribed. */
export interface PushDevice {
  available: boolean;
  subscribed: boolean;
  publicKey?: string;
}

/** The browser can show pushed notifications (a service worker, the Push API, notifications). */
export function pushSupported(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    'serviceWorker' in navigator &&
    typeof window !== 'undefined' &&
    'PushManager' in window &&
    'Notification' in window
  );
}

export const fromBase64Url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const toBase64Url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** The subscription as the server's PUT takes it (PushSubscription.toJSON()). */
export function subscriptionBody(subscription: PushSubscription) {
  const json = subscription.toJSON();
  return {
    endpoint: json.endpoint ?? subscription.endpoint,
    keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
  };
}

/**
 * Which account turned pushes on in this browser. A subscription outlives a sign-out in the browser
 * (the server drops it with the session): it is taken up again only by the same account.
 */
const OWNER_KEY = 'kith.push.owner';
export const owner = {
  get: () => globalThis.localStorage?.getItem(OWNER_KEY) ?? undefined,
  set: (userId: string) => globalThis.localStorage?.setItem(OWNER_KEY, userId),
  clear: () => globalThis.localStorage?.removeItem(OWNER_KEY),
};

/** The server's key and this browser's subscription for `userId`: another account's, or a stale one, dropped. */
async function current(userId: string | undefined) {
  const key = await call(api.GET('/api/v1/push/key')).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === 'PUSH_UNAVAILABLE') return undefined;
    throw err;
  });
  if (!key) return undefined;
  const found = await navigator.serviceWorker.getRegistration();
  if (!found) return undefined;
  let subscription = await found.pushManager.getSubscription();
  const madeWith = subscription?.options.applicationServerKey;
  const stale = madeWith && toBase64Url(madeWith) !== key.publicKey;
  if (subscription && (stale || !userId || owner.get() !== userId)) {
    // made with a key the server no longer has, or by another account: dropped, never taken over
    await subscription.unsubscribe();
    owner.clear();
    subscription = null;
  }
  return {
    publicKey: key.publicKey,
    subscription: Notification.permission === 'granted' ? subscription : null,
  };
}

/** What Settings shows. Reads only: the subscription is sent by `resendPushSubscription`. */
export async function loadPushDevice(userId: string | undefined): Promise<PushDevice> {
  const now = await current(userId);
  if (!now) return { available: false, subscribed: false };
  return { available: true, subscribed: now.subscription !== null, publicKey: now.publicKey };
}

/**
 * After a sign-in: a new session, which the server does not know subscribed (it dropped the
 * subscription with the old one), so this browser's subscription of the same account is sent again.
 * Returns whether it was.
 */
export async function resendPushSubscription(userId: string): Promise<boolean> {
  if (!pushSupported()) return false;
  const now = await current(userId);
  if (!now?.subscription) return false;
  await call(api.PUT('/api/v1/push/subscription', { body: subscriptionBody(now.subscription) }));
  return true;
}
