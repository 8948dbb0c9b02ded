import { configure, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import { settingsRoute } from './index.ts';

beforeAll(() => import('./settings.lazy.tsx'));
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });

// 65 bytes, as a VAPID public key is
const PUBLIC_KEY = `B${'A'.repeat(86)}`;
const ENDPOINT = 'https://push.example.com/send/abc';

/** A browser with a service worker and the Push API, its subscription kept in `state`. */
function pushBrowser(permission: NotificationPermission = 'default') {
  const state = {
    permission,
    subscription: null as null | { endpoint: string; unsubscribed: boolean },
    subscribedWith: undefined as BufferSource | string | undefined,
  };
  const subscriptionOf = (endpoint: string) => {
    const sub = {
      endpoint,
      unsubscribed: false,
      options: { applicationServerKey: null },
      toJSON: () => ({ endpoint, keys: { p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) } }),
      unsubscribe: async () => {
        sub.unsubscribed = true;
        state.subscription = null;
        return true;
      },
    };
    return sub;
  };
  const pushManager = {
    getSubscription: async () => state.subscription,
    subscribe: async (options: PushSubscriptionOptionsInit) => {
      state.subscribedWith = options.applicationServerKey ?? undefined;
      state.subscription = subscriptionOf(ENDPOINT);
      return state.subscription;
    },
  };
  const existing = () => {
    state.subscription = subscriptionOf(ENDPOINT);
  };
  Object.defineProperty(navigator, 'serviceWorker', {
    configurable: true,
    value: { getRegistration: async () => ({ pushManager }) },
  });
  vi.stubGlobal('PushManager', class {});
  vi.stubGlobal(
    'Notification',
    Object.assign(class {}, {
      get permission() {
        return state.permission;
      },
      requestPermission: async () => {
        state.permission = state.permission === 'default' ? 'granted' : state.permission;
        return state.permission;
      },
    }),
  );
  return Object.assign(state, { existing });
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  Reflect.deleteProperty(navigator, 'serviceWorker');
});

const base = [
  on('GET', '/api/v1/auth/sessions', () => json(200, { items: [] })),
  on('GET', '/api/v1/me/export', () => apiError(404, 'NOT_FOUND', 'No export yet.')),
  on('GET', '/api/v1/mutes/users', () => json(200, { items: [] })),
  on('GET', '/api/v1/mutes/hashtags', () => json(200, { items: [] })),
  on('GET', '/api/v1/mutes/conversations', () => json(200, { items: [] })),
];

describe('notifications on this device, in settings', () => {
  it('subscribes with the server key, sends the subscription, and unsubscribes', async () => {
    const browser = pushBrowser();
    const server = fakeServer(
      ...base,
      on('GET', '/api/v1/push/key', () => json(200, { publicKey: PUBLIC_KEY })),
      on('PUT', '/api/v1/push/subscription', () => json(204)),
      on('DELETE', '/api/v1/push/subscription', () => json(204)),
    );
    renderRoute([settingsRoute], '/settings', await signedInAs(server, me()));
    const region = await screen.findByRole('region', { name: 'Notifications on this device' });
    const toggle = await within(region).findByRole('checkbox', { name: 'Notifications on this device' });
    expect((toggle as HTMLInputElement).checked).toBe(false);

    await userEvent.click(toggle);
    expect(await within(region).findByText('Notifications are on for this device.')).toBeTruthy();
    expect(browser.permission).toBe('granted');
    expect(new Uint8Array(browser.subscribedWith as Uint8Array)).toHaveLength(65);
    const put = server.requests.find((r) => r.method === 'PUT' && r.path === '/api/v1/push/subscription');
    expect(put?.body).toEqual({ endpoint: ENDPOINT, keys: { p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) } });
    expect(localStorage.getItem('kith.push.owner')).toBe(me().id);

    await userEvent.click(toggle);
    expect(await within(region).findByText('Notifications are off for this device.')).toBeTruthy();
    expect(server.requests.some((r) => r.method === 'DELETE' && r.path === '/api/v1/push/subscription')).toBe(
      true,
    );
    expect(browser.subscription).toBeNull();
    expect(localStorage.getItem('kith.push.owner')).toBeNull();
  });

  it('shows this browser’s subscription as on for the same account without sending it (read-only), never for another', async () => {
    const mine = pushBrowser('granted');
    mine.existing();
    localStorage.setItem('kith.push.owner', me().id);
    const server = fakeServer(
      ...base,
      on('GET', '/api/v1/push/key', () => json(200, { publicKey: PUBLIC_KEY })),
      on('PUT', '/api/v1/push/subscription', () => json(204)),
    );
    const view = renderRoute([settingsRoute], '/settings', await signedInAs(server, me()));
    let region = await screen.findByRole('region', { name: 'Notifications on this device' });
    expect(await within(region).findByText('Notifications are on for this device.')).toBeTruthy();
    // sent again after sign-in (pwa/push-resync.ts), not by every visit to Settings (60 PUTs/h)
    expect(server.requests.some((r) => r.method === 'PUT')).toBe(false);
    view.unmount();

    // another account signs in on this browser: the subscription is dropped, not sent
    vi.unstubAllGlobals();
    const theirs = pushBrowser('granted');
    theirs.existing();
    const other = fakeServer(
      ...base,
      on('GET', '/api/v1/push/key', () => json(200, { publicKey: PUBLIC_KEY })),
      on('PUT', '/api/v1/push/subscription', () => json(204)),
    );
    renderRoute(
      [settingsRoute],
      '/settings',
      await signedInAs(other, me({ id: '0191f6a0-0000-7000-8000-0000000000bb', username: 'other' })),
    );
    region = await screen.findByRole('region', { name: 'Notifications on this device' });
    expect(await within(region).findByText('Notifications are off for this device.')).toBeTruthy();
    expect(theirs.subscription).toBeNull();
    expect(other.requests.some((r) => r.method === 'PUT')).toBe(false);
    expect(localStorage.getItem('kith.push.owner')).toBeNull();
  });

  it('says so when the server has Web Push off', async () => {
    pushBrowser();
    const server = fakeServer(
      ...base,
      on('GET', '/api/v1/push/key', () => apiError(404, 'PUSH_UNAVAILABLE', 'Web Push is not available.')),
    );
    renderRoute([settingsRoute], '/settings', await signedInAs(server, me()));
    const region = await screen.findByRole('region', { name: 'Notifications on this device' });
    expect(
      await within(region).findByText('Notifications to devices are not available on this server.'),
    ).toBeTruthy();
    expect(within(region).queryByRole('checkbox')).toBeNull();
  });

  it('explains a browser that blocked notifications', async () => {
    pushBrowser('denied');
    const server = fakeServer(
      ...base,
      on('GET', '/api/v1/push/key', () => json(200, { publicKey: PUBLIC_KEY })),
    );
    renderRoute([settingsRoute], '/settings', await signedInAs(server, me()));
    const region = await screen.findByRole('region', { name: 'Notifications on this device' });
    const toggle = await within(region).findByRole('checkbox', { name: 'Notifications on this device' });
    expect((toggle as HTMLInputElement).disabled).toBe(true);
    expect(within(region).getByText(/Notifications are blocked for Kith/)).toBeTruthy();
  });

  it('says when the browser cannot receive pushes', async () => {
    const server = fakeServer(...base);
    renderRoute([settingsRoute], '/settings', await signedInAs(server, me()));
    const region = await screen.findByRole('region', { name: 'Notifications on this device' });
    expect(within(region).getByText('This browser cannot receive notifications from Kith.')).toBeTruthy();
    expect(server.requests.some((r) => r.path === '/api/v1/push/key')).toBe(false);
  });
});
