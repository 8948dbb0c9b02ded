import { onlineManager, type QueryClient } from '@tanstack/react-query';
import type { AuthSession } from '../auth/session.ts';
import { watchNetwork } from './network.ts';
import { resendPushOnSignIn } from './push-resync.ts';
import { setRestoring } from './restore-state.ts';

/**
 * The offline side of the app (a lazy chunk, started by start.ts before the first render); its
 * heavier parts load on demand:
 * - per user, the query cache saved in IndexedDB: restored when they are known (queries wait),
 *   saved as it changes, deleted with the media cache when they sign out or another user signs in;
 * - the outbox, once someone is signed in;
 * - this browser's push subscription, sent again after each sign-in (push-resync.ts);
 * - the service worker, after the page has loaded.
 */
export function startOffline({
  session,
  queryClient,
}: {
  session: AuthSession;
  queryClient: QueryClient;
}): void {
  // TanStack Query assumes online until an `offline` event: a page loaded offline would fail its
  // queries (and show errors over the saved data) instead of pausing them until the network
  // returns; and it would wait for an `online` event that some browsers never send
  watchNetwork();
  // ...but writes must not pause offline: posts, comments, reactions and messages go to the outbox,
  // which waits for the network itself; any other write fails at once with the network error
  // instead of a button that stays busy with no word
  const defaults = queryClient.getDefaultOptions();
  queryClient.setDefaultOptions({ ...defaults, mutations: { ...defaults.mutations, networkMode: 'always' } });
  resendPushOnSignIn(session);
  if (typeof indexedDB === 'undefined') {
    setRestoring(false);
    return;
  }
  let current: { userId: string; detach?: () => void } | undefined;
  let remembered: string | undefined;

  const onSession = () => {
    const state = session.getState();
    const userId = state.status === 'signedIn' ? state.user.id : undefined;
    if (state.status === 'signedIn' && state.accessToken && remembered !== userId) {
      remembered = userId;
      const user = state.user;
      void import('./last-user.ts').then((m) => m.lastUser.set(user)).catch(() => {});
    }
    if (state.status === 'unknown') return;
    if (userId === current?.userId) {
      if (!userId) setRestoring(false);
      return;
    }
    const previous = current;
    previous?.detach?.();
    current = userId ? { userId } : undefined;
    if (previous) {
      if (!userId) remembered = undefined;
      void import('./query-persist.ts')
        .then(async (m) => {
          await m.forgetCache(previous.userId);
          if (!userId) await (await import('./last-user.ts')).lastUser.clear();
        })
        .catch(() => {});
    }
    if (!userId) {
      setRestoring(false);
      return;
    }
    setRestoring(true);
    const mine = current;
    void import('./query-persist.ts')
      .then((m) => m.attachPersistedCache(queryClient, userId))
      .then((detach) => {
        if (current === mine && mine) mine.detach = detach;
        else detach();
      })
      .catch(() => {})
      .finally(() => {
        if (current === mine) setRestoring(false);
      });
    void import('../outbox/runtime.ts').then((m) => m.startOutbox({ session, queryClient })).catch(() => {});
  };
  session.subscribe(onSession);
  onSession();
  // opened offline, the session has a user but no token yet: get one as soon as the network is back
  onlineManager.subscribe((online) => {
    if (online && session.getState().status === 'signedIn' && !session.accessToken()) void session.refresh();
  });

  if ('serviceWorker' in navigator && import.meta.env.PROD) {
    const register = () => void import('./register.ts').then((m) => m.registerServiceWorker());
    if (document.readyState === 'complete') register();
    else window.addEventListener('load', register, { once: true });
  }
}
