import { describe, expect, it } from 'vitest';
import { installPushHandlers, pushTarget } from './sw-push.ts';

const ORIGIN = 'https://kith.example';

/** A service worker scope with just what the push handlers use, recording what they do. */
function fakeScope(windows: { url: string }[] = []) {
  const listeners = new Map<string, (event: unknown) => void>();
  const shown: { title: string; options: NotificationOptions }[] = [];
  const opened: string[] = [];
  const navigated: string[] = [];
  const focused: string[] = [];
  const clients = windows.map((w) => {
    const client = {
      url: w.url,
      focus: async () => {
        focused.push(client.url);
        return client;
      },
      navigate: async (url: string) => {
        navigated.push(url);
        client.url = url;
        return client;
      },
    };
    return client;
  });
  const scope = {
    location: { origin: ORIGIN },
    addEventListener: (type: string, listener: (event: unknown) => void) => listeners.set(type, listener),
    registration: {
      showNotification: async (title: string, options: NotificationOptions) => {
        shown.push({ title, options });
      },
    },
    clients: {
      matchAll: async () => clients,
      openWindow: async (url: string) => {
        opened.push(url);
        return null;
      },
    },
  };
  installPushHandlers(scope as never);
  /** Dispatches an event and waits for what it passed to waitUntil. */
  const dispatch = async (type: string, fields: object) => {
    const pending: Promise<unknown>[] = [];
    listeners.get(type)!({ ...fields, waitUntil: (p: Promise<unknown>) => pending.push(p) });
    await Promise.all(pending);
  };
  return { dispatch, shown, opened, navigated, focused };
}

const pushData = (value: unknown) => ({
  data: {
    json: () => (typeof value === 'string' ? JSON.parse(value) : value),
  },
});

describe('service worker: Web Push', () => {
  it('shows the pushed text, tagged with the notification id, carrying its URL', async () => {
    const sw = fakeScope();
    await sw.dispatch(
      'push',
      pushData({ type: 'comment', id: 'n1', text: 'Ana commented on your post', url: '/posts/p1' }),
    );
    expect(sw.shown).toEqual([
      {
        title: 'Kith',
        options: expect.objectContaining({
          body: 'Ana commented on your post',
          tag: 'n1',
          data: { url: `${ORIGIN}/posts/p1` },
        }),
      },
    ]);
  });

  it('still notifies for a payload it cannot read, and never links off the origin', async () => {
    const sw = fakeScope();
    await sw.dispatch('push', pushData('{not json'));
    await sw.dispatch('push', pushData({ text: 'x', url: 'https://evil.example/phish' }));
    await sw.dispatch('push', pushData({ text: 'x', url: '//evil.example/phish' }));
    expect(sw.shown.map((s) => (s.options.data as { url: string }).url)).toEqual([
      `${ORIGIN}/notifications`,
      `${ORIGIN}/notifications`,
      `${ORIGIN}/notifications`,
    ]);
    expect(pushTarget('/friends', ORIGIN)).toBe(`${ORIGIN}/friends`);
  });

  it('a click focuses an open tab of the app and takes it to the URL', async () => {
    const sw = fakeScope([{ url: 'https://other.example/' }, { url: `${ORIGIN}/` }]);
    let closed = false;
    await sw.dispatch('notificationclick', {
      notification: { data: { url: `${ORIGIN}/posts/p1` }, close: () => (closed = true) },
    });
    expect(closed).toBe(true);
    expect(sw.focused).toEqual([`${ORIGIN}/`]);
    expect(sw.navigated).toEqual([`${ORIGIN}/posts/p1`]);
    expect(sw.opened).toEqual([]);
  });

  it('a click with no tab of the app open opens one', async () => {
    const sw = fakeScope([{ url: 'https://other.example/' }]);
    await sw.dispatch('notificationclick', {
      notification: { data: { url: `${ORIGIN}/friends` }, close() {} },
    });
    expect(sw.opened).toEqual([`${ORIGIN}/friends`]);
  });
});
