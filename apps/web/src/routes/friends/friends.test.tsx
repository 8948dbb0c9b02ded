import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import type { FriendRequest } from './friends-query.ts';
import { friendsRoute } from './index.ts';

beforeAll(() => import('./friends.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const person = (n: number, name: string) => ({
  id: `0191f6a0-0000-7000-8000-00000000000${n}`,
  username: name.toLowerCase(),
  displayName: name,
});
const request = (n: number, name: string): FriendRequest => ({
  id: `0191f6a0-3333-7000-8000-00000000000${n}`,
  user: person(n, name),
  createdAt: new Date().toISOString(),
});

/** Friend requests that the fake server really removes when answered. */
function requestsServer(
  incoming: FriendRequest[],
  outgoing: FriendRequest[],
  friends: unknown[] = [],
  blocked: { id: string; username: string; displayName: string; blockedAt: string }[] = [],
) {
  const server = fakeServer(
    on('GET', '/api/v1/friend-requests', (_r, url) =>
      json(200, { items: url.searchParams.get('direction') === 'incoming' ? incoming : outgoing }),
    ),
    on('POST', '/api/v1/friend-requests/:id/:answer', (_r, _u, { id }) => {
      incoming = incoming.filter((r) => r.id !== id);
      return json(204);
    }),
    on('DELETE', '/api/v1/friend-requests/:id', (_r, _u, { id }) => {
      outgoing = outgoing.filter((r) => r.id !== id);
      return json(204);
    }),
    on('GET', '/api/v1/users/me/friends', () => json(200, { items: friends })),
    on('GET', '/api/v1/blocks', () => json(200, { items: blocked })),
    on('DELETE', '/api/v1/blocks/:username', (_r, _u, { username }) => {
      blocked = blocked.filter((b) => b.username !== username);
      return json(204);
    }),
  );
  return server;
}

describe('friends screen', () => {
  it('lists the people I blocked and unblocks one', async () => {
    const zed = { ...person(7, 'Zed'), blockedAt: new Date().toISOString() };
    const server = requestsServer([], [], [], [zed]);
    renderRoute([friendsRoute], '/friends', await signedInAs(server, me()));
    const blocked = await screen.findByRole('region', { name: 'Blocked' });
    expect(await within(blocked).findByRole('link', { name: zed.displayName })).toBeTruthy();
    await userEvent.click(within(blocked).getByRole('button', { name: `Unblock ${zed.displayName}` }));
    expect(await within(blocked).findByText('You have not blocked anyone.')).toBeTruthy();
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      `/api/v1/blocks/${zed.username}`,
    ]);
  });

  it('accepts and declines requests to me', async () => {
    const server = requestsServer([request(1, 'Ana'), request(2, 'Ben')], []);
    renderRoute([friendsRoute], '/friends', await signedInAs(server, me()));
    const incoming = await screen.findByRole('region', { name: 'Requests to you' });
    await userEvent.click(
      await within(incoming).findByRole('button', { name: 'Accept friend request from Ana' }),
    );
    await waitFor(() => expect(within(incoming).queryByText('Ana')).toBeNull());
    await userEvent.click(within(incoming).getByRole('button', { name: 'Decline friend request from Ben' }));
    expect(await within(incoming).findByText('No one is waiting for your answer.')).toBeTruthy();
    expect(
      server.requests.filter((r) => r.path.startsWith('/api/v1/friend-requests/')).map((r) => r.path),
    ).toEqual([
      '/api/v1/friend-requests/0191f6a0-3333-7000-8000-000000000001/accept',
      '/api/v1/friend-requests/0191f6a0-3333-7000-8000-000000000002/decline',
    ]);
  });

  it('cancels a request I sent', async () => {
    const server = requestsServer([], [request(3, 'Cleo')]);
    renderRoute([friendsRoute], '/friends', await signedInAs(server, me()));
    const outgoing = await screen.findByRole('region', { name: 'Requests you sent' });
    expect((await within(outgoing).findByRole('link', { name: 'Cleo' })).getAttribute('href')).toBe(
      '/users/cleo',
    );
    await userEvent.click(within(outgoing).getByRole('button', { name: 'Cancel request to Cleo' }));
    expect(await within(outgoing).findByText('You have no pending requests.')).toBeTruthy();
  });

  it("shows the server's message when an answer fails, next to that request", async () => {
    const server = requestsServer([request(1, 'Ana')], []);
    server.use(
      on('POST', '/api/v1/friend-requests/:id/accept', () => apiError(409, 'CONFLICT', 'Already answered.')),
    );
    renderRoute([friendsRoute], '/friends', await signedInAs(server, me()));
    await userEvent.click(await screen.findByRole('button', { name: 'Accept friend request from Ana' }));
    const row = screen.getByRole('link', { name: 'Ana' }).closest('li') as HTMLElement;
    expect((await within(row).findByRole('alert')).textContent).toContain('Already answered.');
  });

  it('shows a loading error with its message and retries', async () => {
    const server = requestsServer([], []);
    let fail = true;
    server.use(
      on(
        'GET',
        '/api/v1/friend-requests',
        () => (fail ? apiError(503, 'OVERLOADED', 'Kith is busy.') : undefined) as never,
      ),
    );
    renderRoute([friendsRoute], '/friends', await signedInAs(server, me()));
    const incoming = await screen.findByRole('region', { name: 'Requests to you' });
    const alert = await within(incoming).findByRole('alert');
    expect(alert.textContent).toContain('Kith is busy.');
    fail = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await within(incoming).findByText('No one is waiting for your answer.')).toBeTruthy();
  });

  it('finds people as I type and links to their profiles', async () => {
    const server = requestsServer([], []);
    server.use(
      on('GET', '/api/v1/users', (_r, url) =>
        json(200, {
          items: url.searchParams.get('query') === 'an' ? [person(1, 'Ana'), person(5, 'Andre')] : [],
        }),
      ),
    );
    renderRoute([friendsRoute], '/friends', await signedInAs(server, me()));
    await userEvent.type(await screen.findByRole('searchbox', { name: 'Username or name' }), 'an');
    expect(await screen.findByText('2 people found')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Andre' }).getAttribute('href')).toBe('/users/andre');
    await userEvent.type(screen.getByRole('searchbox'), 'x');
    expect(await screen.findByText('No one found.')).toBeTruthy();
    // typing is debounced: no request per keystroke
    expect(
      server.requests.filter((r) => r.path === '/api/v1/users').map((r) => r.url.searchParams.get('query')),
    ).toEqual(['an', 'anx']);
  });

  it('lists my friends and unfriends one after confirming', async () => {
    let friends = [{ ...person(4, 'Dan'), friendsSince: new Date().toISOString() }];
    const server = requestsServer([], []);
    server.use(on('GET', '/api/v1/users/me/friends', () => json(200, { items: friends })));
    server.use(
      on('DELETE', '/api/v1/friends/dan', () => {
        friends = [];
        return json(204);
      }),
    );
    renderRoute([friendsRoute], '/friends', await signedInAs(server, me()));
    const mine = await screen.findByRole('region', { name: 'Your friends' });
    await userEvent.click(await within(mine).findByRole('button', { name: 'Unfriend' }));
    await userEvent.click(within(mine).getByRole('button', { name: 'Yes, unfriend' }));
    expect(await within(mine).findByText('No friends yet.')).toBeTruthy();
  });
});
