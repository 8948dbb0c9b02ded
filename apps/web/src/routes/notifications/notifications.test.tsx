import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, on, renderRoute } from '../../test/render-route.tsx';
import { notificationsRoute } from './index.ts';
import type { Notification } from './notifications-query.ts';

const user = (n: number, name: string) => ({
  id: `0191f6a0-0000-7000-8000-00000000000${n}`,
  username: name.toLowerCase(),
  displayName: name,
});
let seq = 0;
function notification(over: Partial<Notification>): Notification {
  seq += 1;
  const at = new Date(Date.now() - seq * 60_000).toISOString();
  return {
    id: `0191f6a0-1111-7000-8000-${String(seq).padStart(12, '0')}`,
    kind: 'comment',
    actors: [user(1, 'Ana')],
    actorCount: 1,
    subjectId: null,
    data: {},
    read: false,
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}

// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });

afterEach(() => {
  seq = 0;
});

const list = (items: Notification[], nextCursor?: string) =>
  on('GET', '/api/v1/notifications', (_r, url) =>
    url.searchParams.get('cursor')
      ? json(200, { items: [] })
      : json(200, { items, ...(nextCursor ? { nextCursor } : {}) }),
  );
const unread = (count: number) => on('GET', '/api/v1/notifications/unread-count', () => json(200, { count }));

describe('notifications screen', () => {
  it('shows a loading state, then each notification as a sentence with the unread count', async () => {
    fakeServer(
      list([
        notification({
          kind: 'reaction',
          actors: [user(1, 'Ana'), user(2, 'Ben')],
          actorCount: 5,
          subjectId: '0191f6a0-2222-7000-8000-000000000001',
        }),
        notification({ kind: 'friend_request', actors: [user(3, 'Cleo')] }),
        notification({
          kind: 'mention',
          actors: [user(1, 'Ana'), user(2, 'Ben')],
          actorCount: 2,
          read: true,
        }),
      ]),
      unread(2),
    );
    renderRoute([notificationsRoute], '/notifications');
    expect(await screen.findByRole('status')).toHaveProperty('textContent', 'Loading…');
    const items = within(
      await screen.findByRole('list', { name: 'Your notifications, newest first' }),
    ).getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('.notification-text')?.textContent)).toEqual([
      'NewAna and 4 others reacted to your post',
      'NewCleo sent you a friend request',
      'Ana and Ben mentioned you in a post',
    ]);
    expect(screen.getByRole('heading', { level: 1, name: 'Notifications' })).toBeTruthy();
    expect(await screen.findByText('2 unread')).toBeTruthy();
    expect(
      within(items[0] as HTMLElement)
        .getByRole('link')
        .getAttribute('href'),
    ).toBe('/posts/0191f6a0-2222-7000-8000-000000000001');
    expect(
      within(items[1] as HTMLElement)
        .getByRole('link')
        .getAttribute('href'),
    ).toBe('/friends');
    // only unread items offer "mark read up to here"
    expect(within(items[2] as HTMLElement).queryByRole('button')).toBeNull();
  });

  it('renders names as text, never as markup', async () => {
    fakeServer(list([notification({ actors: [user(1, '<img src=x onerror=alert(1)>')] })]), unread(1));
    const { container } = renderRoute([notificationsRoute], '/notifications');
    expect(
      await screen.findByText('<img src=x onerror=alert(1)> commented on your post', { exact: false }),
    ).toBeTruthy();
    expect(container.querySelector('img')).toBeNull();
  });

  it('says so when there are none', async () => {
    fakeServer(list([]), unread(0));
    renderRoute([notificationsRoute], '/notifications');
    expect(await screen.findByText(/No notifications yet/)).toBeTruthy();
    expect(await screen.findByText('No unread notifications')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Mark all as read' })).toBeNull();
  });

  it("shows the server's error message and tries again", async () => {
    const server = fakeServer(unread(0));
    let failing = true;
    server.use(
      on('GET', '/api/v1/notifications', () =>
        failing
          ? apiError(429, 'RATE_LIMITED', 'Too many requests.', { 'Retry-After': '7' })
          : json(200, { items: [notification({})] }),
      ),
    );
    renderRoute([notificationsRoute], '/notifications');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Too many requests.');
    expect(alert.textContent).toContain('Try again in 7 seconds.');
    expect(alert.textContent).toContain('Reference: req-rate_limited');
    failing = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Ana commented on your post')).toBeTruthy();
  });

  it('marks everything read up to the newest one', async () => {
    const items = [notification({}), notification({ kind: 'friend_accepted' })];
    const server = fakeServer(list(items), unread(2));
    server.use(on('POST', '/api/v1/notifications/read', () => json(200, { marked: 2, unreadCount: 0 })));
    renderRoute([notificationsRoute], '/notifications');
    await userEvent.click(await screen.findByRole('button', { name: 'Mark all as read' }));
    expect(await screen.findByText('No unread notifications')).toBeTruthy();
    expect(server.requests.find((r) => r.method === 'POST')?.body).toEqual({ upTo: items[0]?.id });
    expect(screen.queryByText('New')).toBeNull();
    expect(screen.getByRole('button', { name: 'Mark all as read' })).toHaveProperty('disabled', true);
  });

  it('marks one and every older one read, leaving newer ones unread', async () => {
    const items = [notification({}), notification({ kind: 'reaction' }), notification({ kind: 'mention' })];
    const server = fakeServer(list(items), unread(3));
    server.use(on('POST', '/api/v1/notifications/read', () => json(200, { marked: 2, unreadCount: 1 })));
    renderRoute([notificationsRoute], '/notifications');
    const rows = within(await screen.findByRole('list', { name: /notifications/ })).getAllByRole('listitem');
    await userEvent.click(
      within(rows[1] as HTMLElement).getByRole('button', { name: 'Mark read up to here' }),
    );
    expect(await screen.findByText('1 unread')).toBeTruthy();
    expect(server.requests.find((r) => r.method === 'POST')?.body).toEqual({ upTo: items[1]?.id });
    expect(rows.map((r) => r.dataset.read)).toEqual(['false', 'true', 'true']);
  });

  it('shows why marking failed and keeps the items unread', async () => {
    const server = fakeServer(list([notification({})]), unread(1));
    server.use(
      on('POST', '/api/v1/notifications/read', () => apiError(404, 'NOT_FOUND', 'Notification not found.')),
    );
    renderRoute([notificationsRoute], '/notifications');
    await userEvent.click(await screen.findByRole('button', { name: 'Mark all as read' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Notification not found.');
    expect(screen.getByText('1 unread')).toBeTruthy();
  });

  it('loads older pages over the cursor', async () => {
    const first = [notification({})];
    const older = [notification({ kind: 'friend_request', actors: [user(4, 'Dan')], read: true })];
    const server = fakeServer(
      unread(1),
      on('GET', '/api/v1/notifications', (_r, url) =>
        url.searchParams.get('cursor') === 'c2'
          ? json(200, { items: older })
          : json(200, { items: first, nextCursor: 'c2' }),
      ),
    );
    renderRoute([notificationsRoute], '/notifications');
    await userEvent.click(await screen.findByRole('button', { name: 'Load older notifications' }));
    expect(await screen.findByText('Dan sent you a friend request')).toBeTruthy();
    expect(screen.getByText('That is all of them.')).toBeTruthy();
    await waitFor(() =>
      expect(
        server.requests.filter((r) => r.path === '/api/v1/notifications').map((r) => r.url.search),
      ).toEqual(['?limit=20', '?limit=20&cursor=c2']),
    );
  });
});
