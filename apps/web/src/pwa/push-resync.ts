import type { AuthSession } from '../auth/session.ts';

const resendLazily = (userId: string) =>
  import('./push-device.ts').then((m) => m.resendPushSubscription(userId));

/**
 * Sends this browser's push subscription again once per sign-in: the server drops a subscription
 * with its session, so after signing out and in it would stay unknown (no pushes) until Settings
 * was opened. Also once at the app's start (a restored session, perhaps a new one). Token
 * refreshes send nothing. The Push code loads only when someone is signed in.
 */
export function resendPushOnSignIn(session: AuthSession, resend = resendLazily): () => void {
  let sentFor: string | undefined;
  const check = () => {
    const state = session.getState();
    if (state.status === 'anonymous') sentFor = undefined;
    // signed in from the saved user while offline: no token yet, wait for one
    if (state.status !== 'signedIn' || !state.accessToken || sentFor === state.user.id) return;
    sentFor = state.user.id;
    void resend(state.user.id).catch(() => {});
  };
  const stop = session.subscribe(check);
  check();
  return stop;
}
