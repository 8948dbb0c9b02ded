import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import type { Post } from '../../ui/post/post-card.tsx';
import { profileRoute } from './index.ts';
import type { Profile } from './profile-query.ts';

// the screen's chunk is transformed once here, so no test's first wait includes it
beforeAll(() => import('./profile.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const ana = { id: '0191f6a0-0000-7000-8000-000000000001', username: 'ana', displayName: 'Ana Lima' };
function profile(over: Partial<Profile> = {}): Profile {
  return {
    ...ana,
    bio: 'Climber.\nBaker.',
    createdAt: '2026-03-04T10:00:00.000Z',
    counts: { friends: 1, posts: 1 },
    relationship: 'none',
    ...over,
  };
}
function post(text: string): Post {
  return {
    id: '0191f6a0-2222-7000-8000-000000000001',
    author: ana,
    text,
    visibility: 'friends',
    entities: [],
    media: [],
    counts: { comments: 2, reactions: { like: 1, love: 0, laugh: 0, wow: 0, sad: 0 } },
    myReaction: null,
    createdAt: new Date().toISOString(),
    editedAt: null,
  } as Post;
}
const lists = (posts: Post[] = [], friends: unknown[] = []) => [
  on('GET', '/api/v1/users/:username/posts', () => json(200, { items: posts })),
  on('GET', '/api/v1/users/:username/friends', () => json(200, { items: friends })),
  on('GET', '/api/v1/users/:username/collections', () => json(200, { items: [] })),
];

describe('profile screen', () => {
  it('shows the header, the posts I may see and the friends, names as text', async () => {
    fakeServer(
      on('GET', '/api/v1/users/ana', () => json(200, profile({ displayName: '<b>Ana</b>' }))),
      ...lists(
        [post('Hello <script>alert(1)</script>')],
        [
          {
            id: '0191f6a0-0000-7000-8000-000000000002',
            username: 'ben',
            displayName: 'Ben',
            friendsSince: new Date().toISOString(),
          },
        ],
      ),
    );
    const { container } = renderRoute([profileRoute], '/users/ana');
    expect(await screen.findByRole('heading', { level: 1, name: '<b>Ana</b>' })).toBeTruthy();
    expect(screen.getByText('@ana')).toBeTruthy();
    expect(screen.getByText(/Joined March 4, 2026/).textContent).toContain('1 friend · 1 post');
    expect(await screen.findByText('Hello <script>alert(1)</script>')).toBeTruthy();
    expect(container.querySelector('b, script')).toBeNull();
    const friends = await screen.findByRole('region', { name: 'Friends' });
    expect(within(friends).getByRole('link', { name: 'Ben' }).getAttribute('href')).toBe('/users/ben');
  });

  it("shows the server's message when the profile cannot be seen", async () => {
    fakeServer(on('GET', '/api/v1/users/ghost', () => apiError(404, 'NOT_FOUND', 'No such user.')));
    renderRoute([profileRoute], '/users/ghost');
    expect((await screen.findByRole('alert')).textContent).toContain('No such user.');
    expect(screen.getByRole('heading', { level: 1, name: 'Profile' })).toBeTruthy();
  });

  it('says when there are no posts or friends, and shows a section error on its own', async () => {
    fakeServer(
      on('GET', '/api/v1/users/ana', () => json(200, profile({ counts: { friends: 0, posts: 0 } }))),
      on('GET', '/api/v1/users/:username/posts', () => json(200, { items: [] })),
      on('GET', '/api/v1/users/:username/friends', () => apiError(503, 'OVERLOADED', 'Kith is busy.')),
      on('GET', '/api/v1/users/:username/collections', () => json(200, { items: [] })),
    );
    renderRoute([profileRoute], '/users/ana');
    expect(await screen.findByText('No posts you can see yet.')).toBeTruthy();
    expect((await screen.findByRole('alert')).textContent).toContain('Kith is busy.');
  });

  it('asks to be friends with an idempotency key, then shows the request as sent', async () => {
    let relationship: Profile['relationship'] = 'none';
    const keys: (string | null)[] = [];
    fakeServer(
      on('GET', '/api/v1/users/ana', () => json(200, profile({ relationship }))),
      ...lists(),
      on('POST', '/api/v1/friend-requests', (request) => {
        keys.push(request.headers.get('idempotency-key'));
        relationship = 'request_sent';
        return json(201, {
          status: 'pending',
          request: { id: 'r1', user: ana, createdAt: new Date().toISOString() },
        });
      }),
    );
    renderRoute([profileRoute], '/users/ana');
    await userEvent.click(await screen.findByRole('button', { name: 'Add friend' }));
    expect(await screen.findByText('You asked to be friends. Waiting for an answer.')).toBeTruthy();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says "you blocked this person" (not "no such user") for someone I blocked, and unblocks', async () => {
    let blocked = true;
    const server = fakeServer(
      on('GET', '/api/v1/users/ana', () =>
        blocked ? apiError(404, 'NOT_FOUND', 'No such user.') : json(200, profile()),
      ),
      ...lists(),
      on('GET', '/api/v1/blocks', () =>
        json(200, { items: blocked ? [{ ...ana, blockedAt: new Date().toISOString() }] : [] }),
      ),
      on('DELETE', '/api/v1/blocks/ana', () => {
        blocked = false;
        return json(204);
      }),
    );
    renderRoute([profileRoute], '/users/ana');
    expect(await screen.findByText('You blocked this person. Neither of you sees the other.')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Unblock' }));
    expect(await screen.findByRole('button', { name: 'Add friend' })).toBeTruthy();
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/api/v1/blocks/ana',
    ]);
  });

  it('unfriends only after confirming, and Esc backs out', async () => {
    let relationship: Profile['relationship'] = 'friends';
    const server = fakeServer(
      on('GET', '/api/v1/users/ana', () => json(200, profile({ relationship }))),
      ...lists(),
      on('DELETE', '/api/v1/friends/ana', () => {
        relationship = 'none';
        return json(204);
      }),
    );
    renderRoute([profileRoute], '/users/ana');
    await userEvent.click(await screen.findByRole('button', { name: 'Unfriend' }));
    expect(screen.getByRole('group', { name: 'End your friendship with Ana Lima?' })).toBeTruthy();
    expect(document.activeElement?.textContent).toBe('Yes, unfriend');
    await userEvent.keyboard('{Escape}');
    expect(document.activeElement?.textContent).toBe('Unfriend');
    expect(server.requests.some((r) => r.method === 'DELETE')).toBe(false);
    await userEvent.click(screen.getByRole('button', { name: 'Unfriend' }));
    await userEvent.click(screen.getByRole('button', { name: 'Yes, unfriend' }));
    expect(await screen.findByRole('button', { name: 'Add friend' })).toBeTruthy();
  });

  it('shows why blocking failed', async () => {
    fakeServer(
      on('GET', '/api/v1/users/ana', () => json(200, profile())),
      ...lists(),
      on('PUT', '/api/v1/blocks/ana', () =>
        apiError(429, 'RATE_LIMITED', 'Slow down.', { 'Retry-After': '3' }),
      ),
    );
    renderRoute([profileRoute], '/users/ana');
    await userEvent.click(await screen.findByRole('button', { name: 'Block' }));
    await userEvent.click(screen.getByRole('button', { name: 'Yes, block' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Slow down.');
    expect(alert.textContent).toContain('Try again in 3 seconds.');
  });

  it('unblocks a blocked user, whose posts and friends stay hidden until then', async () => {
    let relationship: Profile['relationship'] = 'blocked';
    fakeServer(
      on('GET', '/api/v1/users/ana', () => json(200, profile({ relationship }))),
      ...lists(),
      on('DELETE', '/api/v1/blocks/ana', () => {
        relationship = 'none';
        return json(204);
      }),
    );
    renderRoute([profileRoute], '/users/ana');
    await userEvent.click(await screen.findByRole('button', { name: 'Unblock' }));
    expect(await screen.findByRole('region', { name: 'Posts' })).toBeTruthy();
  });

  it('edits my own display name and bio', async () => {
    const server = fakeServer(...lists());
    const session = await signedInAs(server, me());
    let mine = profile({ ...me(), relationship: 'self', bio: '' });
    server.use(on('GET', '/api/v1/users/me', () => json(200, mine)));
    server.use(
      on('PATCH', '/api/v1/me', async (request) => {
        const body = (await request.json()) as { displayName: string; bio: string };
        mine = { ...mine, ...body };
        return json(200, { ...me(), ...body });
      }),
    );
    renderRoute([profileRoute], '/users/me', session);
    const name = await screen.findByRole('textbox', { name: 'Display name' });
    expect(screen.queryByRole('button', { name: 'Add friend' })).toBeNull();
    await userEvent.clear(name);
    expect(screen.getByText('A display name cannot be empty.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Save profile' })).toHaveProperty('disabled', true);
    await userEvent.type(name, 'Meg');
    await userEvent.type(screen.getByRole('textbox', { name: 'Bio' }), 'Hi');
    expect(screen.getByText('498 characters left')).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Save profile' }));
    expect(await screen.findByText('Profile saved.')).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1, name: 'Meg' })).toBeTruthy();
    await waitFor(() =>
      expect(server.requests.find((r) => r.method === 'PATCH')?.body).toEqual({
        displayName: 'Meg',
        bio: 'Hi',
      }),
    );
  });
});
