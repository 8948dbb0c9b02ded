import { onlineManager, type QueryClient } from '@tanstack/react-query';
import { ApiError } from '../api/errors.ts';
import { type AuthSession, session } from '../auth/session.ts';
import { markReachable } from '../pwa/network.ts';
import { refreshOnSuspension } from '../routes/account/account-query.ts';
import { Outbox } from './outbox.ts';
import { sendItem } from './send.ts';
import { idbOutboxStore } from './store.ts';
import type { AttemptOutcome, OutboxItem } from './types.ts';

let outbox: Outbox | undefined;
let started = false;

/** This tab's outbox (one per tab; the tabs share the queue and take turns sending). */
export function getOutbox(): Outbox {
  outbox ??= new Outbox({
    store: idbOutboxStore(),
    send: sendItem,
    locks: 'locks' in navigator ? navigator.locks : undefined,
    channel: typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('kith-outbox'),
    // opened offline, the session knows the user before it has a token: nothing can go yet.
    // The network state is the onlineManager's (pwa/network.ts: events, re-checks, answers)
    online: () => onlineManager.isOnline() && Boolean(session.accessToken()),
  });
  return outbox;
}

/** The screens showing what an item changed, once it reached the server. */
function invalidate(queryClient: QueryClient, item: OutboxItem) {
  const request = item.request;
  switch (request.kind) {
    case 'post':
      void queryClient.invalidateQueries({ queryKey: ['feed'] });
      void queryClient.invalidateQueries({ queryKey: ['profile'] });
      return;
    case 'comment':
    case 'reaction':
      void queryClient.invalidateQueries({ queryKey: ['post', request.postId] });
      void queryClient.invalidateQueries({ queryKey: ['feed'] });
      return;
    case 'message':
      void queryClient.invalidateQueries({ queryKey: ['conversations'] });
      return;
  }
}

/**
 * What a tab does when an item reached its end, here or in another tab: the server answered, so the
 * network is there; a sent item refreshes the screens it changed; a write refused with
 * ACCOUNT_SUSPENDED (queued before the suspension, sent after it) reads /me again, so the suspended
 * banner shows now rather than at the next read of /me.
 */
export function onOutboxResult(queryClient: QueryClient, authSession: AuthSession) {
  const onRefused = refreshOnSuspension(() => queryClient, authSession);
  return (item: OutboxItem, outcome: AttemptOutcome) => {
    if (outcome.type === 'sent' || outcome.type === 'refused') markReachable();
    if (outcome.type === 'sent') invalidate(queryClient, item);
    if (outcome.type === 'refused') onRefused(new ApiError(outcome.error));
  };
}

/**
 * Follows the session: the signed-in user's items are listed, and sent once there is a token
 * (opened offline, the app knows the user before it has one). Sends again when the browser comes
 * back online or the tab becomes visible.
 */
export function startOutbox({
  session: authSession,
  queryClient,
}: {
  session: AuthSession;
  queryClient: QueryClient;
}): Outbox {
  const box = getOutbox();
  if (started) return box;
  started = true;
  const onSession = () => {
    const state = session.getState();
    if (state.status === 'unknown') return;
    const userId = state.status === 'signedIn' ? state.user.id : undefined;
    void box.setUser(userId).then(() => {
      if (userId && session.accessToken()) void box.drain();
    });
  };
  session.subscribe(onSession);
  onSession();
  box.onResult(onOutboxResult(queryClient, authSession));
  onlineManager.subscribe((online) => {
    if (online) box.online();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void box.drain();
  });
  return box;
}
