import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthSession, SessionState } from '../auth/session.ts';
import { apiError, fakeServer, json, me, on } from '../test/render-route.tsx';
import { resendPushSubscription } from './push-device.ts';
import { resendPushOnSignIn } from './push-resync.ts';

const PUBLIC_KEY = `B${'A'.repeat(86)}`;
const ENDPOINT = 'https://push.example.com/send/abc';

/** A session whose state the test sets, telling its listeners as AuthSession does. */
function fakeSession() {
  let state: SessionState = { status: 'unknown' };
  const listeners = new Set<() => void>();
  const session = {
    subscribe: (l: () => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    getState: () => state,
  } as unknown as AuthSession;
  const set = (next: SessionState) => {
    state = next;
    for (const l of listeners) l();
  };
  return {
    session,
    signIn: (id = me().id, accessToken = 'at-1') =>
      set({ status: 'signedIn', user: me({ id }), accessToken, expiresAt: Date.now() + 60_000 }),
    signOut: () => set({ status: 'anonymous', expired: false }),
  };
}

describe('resendPushOnSignIn', () => {
  it('sends once per sign-in: at start, not on token refreshes, again after signing out and in', () => {
    const s = fakeSession();
    const resend = vi.fn(async () => true);
    const stop = resendPushOnSignIn(s.session, resend);
    expect(resend).not.toHaveBeenCalled(); // state unknown
    s.signIn(me().id, ''); // from the saved user, offline: no token yet
    expect(resend).not.toHaveBeenCalled();
    s.signIn(me().id, 'at-1');
    expect(resend).toHaveBeenCalledTimes(1);
    expect(resend).toHaveBeenLastCalledWith(me().id);
    s.signIn(me().id, 'at-2'); // a refresh
    s.signIn(me().id, 'at-3');
    expect(resend).toHaveBeenCalledTimes(1);
    s.signOut();
    s.signIn(me().id, 'at-4');
    expect(resend).toHaveBeenCalledTimes(2);
    s.signIn('0191f6a0-0000-7000-8000-0000000000bb', 'at-5'); // another account, straight away
    expect(resend).toHaveBeenCalledTimes(3);
    stop();
    s.signOut();
    s.signIn(me().id, 'at-6');
    expect(resend).toHaveBeenCalledTimes(3);
  });

  it('sends at once when the session is already signed in', () => {
    const s = fakeSession();
    s.signIn();
    const resend = vi.fn(async () => false);
    resendPushOnSignIn(s.session, resend);
    expect(resend).toHaveBeenCalledTimes(1);
  });
});

/** A browser with a service worker and an existing push subscription. */
function pushBrowser(permission: NotificationPermission) {
  const state = { unsubscribed: false };
  const subscription = {
    endpoint: ENDPOINT,
    options: { applicationServerKey: null },
    toJSON: () => ({ endpoint: ENDPOINT, keys: { p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) } }),
    unsubscribe: async () => {
      state.unsubscribed = true;
      return true;
    },
  };
  const pushManager = { getSubscription: async () => (state.unsubscribed ? null : subscription) };
  Object.defineProperty(navigator, 'serviceWorker', {
    configurable: true,
    value: { getRegistration: async () => ({ pushManager }) },
  });
  vi.stubGlobal('PushManager', class {});
  vi.stubGlobal('Notification', Object.assign(class {}, { permission }));
  return state;
}

describe('resendPushSubscription', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    localStorage.clear();
    Reflect.deleteProperty(navigator, 'serviceWorker');
  });
  const server = () =>
    fakeServer(
      on('GET', '/api/v1/push/key', () => json(200, { publicKey: PUBLIC_KEY })),
      on('PUT', '/api/v1/push/subscription', () => json(204)),
    );
  const puts = (s: ReturnType<typeof fakeServer>) =>
    s.requests.filter((r) => r.method === 'PUT' && r.path === '/api/v1/push/subscription');

  it('sends the subscription of the account that turned pushes on', async () => {
    pushBrowser('granted');
    localStorage.setItem('kith.push.owner', me().id);
    const s = server();
    expect(await resendPushSubscription(me().id)).toBe(true);
    expect(puts(s).map((r) => r.body)).toEqual([
      { endpoint: ENDPOINT, keys: { p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) } },
    ]);
  });

  it('drops, never sends, another account’s subscription', async () => {
    const browser = pushBrowser('granted');
    localStorage.setItem('kith.push.owner', me().id);
    const s = server();
    expect(await resendPushSubscription('0191f6a0-0000-7000-8000-0000000000bb')).toBe(false);
    expect(puts(s)).toEqual([]);
    expect(browser.unsubscribed).toBe(true);
    expect(localStorage.getItem('kith.push.owner')).toBeNull();
  });

  it('sends nothing without the permission, or when the server has Web Push off', async () => {
    pushBrowser('default');
    localStorage.setItem('kith.push.owner', me().id);
    const s = server();
    expect(await resendPushSubscription(me().id)).toBe(false);
    expect(puts(s)).toEqual([]);
    vi.unstubAllGlobals();
    pushBrowser('granted');
    const off = fakeServer(
      on('GET', '/api/v1/push/key', () => apiError(404, 'PUSH_UNAVAILABLE', 'Web Push is not available.')),
    );
    expect(await resendPushSubscription(me().id)).toBe(false);
    expect(off.requests.some((r) => r.method === 'PUT')).toBe(false);
  });
});
