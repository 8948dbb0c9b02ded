import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import type { AuthSession } from '../../auth/session.ts';
import {
  fromBase64Url,
  loadPushDevice,
  owner,
  type PushDevice,
  pushSupported,
  subscriptionBody,
} from '../../pwa/push-device.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';

const PUSH_QUERY_KEY = ['push', 'device'] as const;

async function registration(): Promise<ServiceWorkerRegistration> {
  const found = await navigator.serviceWorker.getRegistration();
  if (!found) throw new Error('no service worker');
  return found;
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
    queryFn: () => loadPushDevice(userId),
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
