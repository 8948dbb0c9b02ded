import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { ApiError } from '../../api/errors.ts';
import type { AuthSession } from '../../auth/session.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';

/** This device's Web Push state: whether the server offers it, and whether this browser is subscribed. */
interface PushDevice {
  available: boolean;
  subscribed: boolean;
  publicKey?: string;
}

const PUSH_QUERY_KEY = ['push', 'device'] as const;

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

const fromBase64Url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const toBase64Url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** The subscription as the server's PUT takes it (PushSubscription.toJSON()). */
function subscriptionBody(subscription: PushSubscription) {
  const json = subscription.toJSON();
  return {
    endpoint: json.endpoint ?? subscription.endpoint,
    keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
  };
}

async function registration(): Promise<ServiceWorkerRegistration> {
  const found = await navigator.serviceWorker.getRegistration();
  if (!found) throw new Error('no service worker');
  return found;
}

/**
 * Which account turned pushes on in this browser. A subscription outlives a sign-out in the browser
 * (the server drops it with the session): it is taken up again only by the same account.
 */
const OWNER_KEY = 'kith.push.owner';
const owner = {
  get: () => globalThis.localStorage?.getItem(OWNER_KEY) ?? undefined,
  set: (userId: string) => globalThis.localStorage?.setItem(OWNER_KEY, userId),
  clear: () => globalThis.localStorage?.removeItem(OWNER_KEY),
};

async function loadDevice(userId: string | undefined): Promise<PushDevice> {
  const key = await call(api.GET('/api/v1/push/key')).catch((err: unknown) => {
    if (err instanceof ApiError && err.code === 'PUSH_UNAVAILABLE') return undefined;
    throw err;
  });
  if (!key) return { available: false, subscribed: false };
  const found = await navigator.serviceWorker.getRegistration();
  if (!found) return { available: false, subscribed: false };
  let subscription = await found.pushManager.getSubscription();
  const madeWith = subscription?.options.applicationServerKey;
  const stale = madeWith && toBase64Url(madeWith) !== key.publicKey;
  if (subscription && (stale || !userId || owner.get() !== userId)) {
    // made with a key the server no longer has, or by another account: dropped, never taken over
    await subscription.unsubscribe();
    owner.clear();
    subscription = null;
  }
  const subscribed = subscription !== null && Notification.permission === 'granted';
  // a new sign-in on this device is a new session, which the server does not know subscribed yet
  if (subscription && subscribed)
    await call(api.PUT('/api/v1/push/subscription', { body: subscriptionBody(subscription) }));
  return { available: true, subscribed, publicKey: key.publicKey };
}

/** Settings: "Notifications on this device" — Web Push for this browser and session. */
export function PushSection({ session }: { session: AuthSession }) {
  const { t } = useTranslation();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const userId = state.status === 'signedIn' ? state.user.id : undefined;
  const id = useId();
  const supported = pushSupported();
  const queryClient = useQueryClient();
  const device = useQuery({
    queryKey: [...PUSH_QUERY_KEY, userId],
    queryFn: () => loadDevice(userId),
    enabled: supported,
  });
  const toggle = useMutation({
    mutationFn: async (on: boolean): Promise<PushDevice> => {
      const current = device.data!;
      const reg = await registration();
      if (on) {
        if ((await Notification.requestPermission()) !== 'granted') return { ...current, subscribed: false };
        const subscription = await reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: fromBase64Url(current.publicKey ?? ''),
        });
        await call(api.PUT('/api/v1/push/subscription', { body: subscriptionBody(subscription) }));
        if (userId) owner.set(userId);
        return { ...current, subscribed: true };
      }
      await call(api.DELETE('/api/v1/push/subscription'));
      await (await reg.pushManager.getSubscription())?.unsubscribe();
      owner.clear();
      return { ...current, subscribed: false };
    },
    onSuccess: (next) => queryClient.setQueryData([...PUSH_QUERY_KEY, userId], next),
  });
  const denied = supported && Notification.permission === 'denied';
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('push.title')}</h2>
      <p>{t('push.about')}</p>
      {!supported ? (
        <p className="muted">{t('push.unsupported')}</p>
      ) : device.isPending ? (
        <Loading />
      ) : device.isError ? (
        <ErrorMessage error={device.error} onRetry={() => void device.refetch()} />
      ) : !device.data.available ? (
        <p className="muted">{t('push.unavailable')}</p>
      ) : (
        <>
          <div className="checkbox">
            <input
              id={`${id}-toggle`}
              type="checkbox"
              checked={device.data.subscribed}
              disabled={toggle.isPending || (denied && !device.data.subscribed)}
              onChange={(e) => toggle.mutate(e.target.checked)}
            />
            <label htmlFor={`${id}-toggle`}>{t('push.toggle')}</label>
          </div>
          <p className="muted small" role="status" aria-live="polite">
            {toggle.isPending ? t('push.working') : device.data.subscribed ? t('push.on') : t('push.off')}
          </p>
          {denied && <p className="error">{t('push.denied')}</p>}
          {toggle.isError && <ErrorMessage error={toggle.error} />}
        </>
      )}
    </section>
  );
}
