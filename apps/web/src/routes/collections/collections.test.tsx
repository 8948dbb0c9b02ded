import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import type { Post } from '../../ui/post/post-card.tsx';
import type { Collection, CollectionDetail } from './collections-query.ts';
import { collectionRoute, collectionsRoute } from './index.ts';

beforeAll(() => Promise.all([import('./collections.lazy.tsx'), import('./collection.lazy.tsx')]));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const mine = me();
const ana = { id: '0191f6a0-0000-7000-8000-000000000001', username: 'ana', displayName: 'Ana Lima' };
const ID = '0191f6a0-5555-7000-8000-000000000001';
const routes = [collectionsRoute, collectionRoute];

function collection(over: Partial<Collection> = {}): Collection {
  return {
    id: ID,
    owner: { id: mine.id, username: mine.username, displayName: mine.displayName },
    title: 'Trips',
    description: '',
    visibility: 'friends',
    itemCount: 0,
    createdAt: '2026-05-01T10:00:00.000Z',
    updatedAt: '2026-05-01T10:00:00.000Z',
    ...over,
  };
}
function post(n: number, text: string): Post {
  return {
    id: `0191f6a0-2222-7000-8000-00000000000${n}`,
    author: ana,
    text,
    visibility: 'public',
    entities: [],
    media: [],
    counts: { comments: 0, reactions: { like: 0, love: 0, laugh: 0, wow: 0, sad: 0 } },
    myReaction: null,
    createdAt: new Date().toISOString(),
    editedAt: null,
  } as Post;
}
const detail = (c: Collection, posts: Post[]): CollectionDetail => ({
  ...c,
  itemCount: posts.length,
  items: posts.map((p, position) => ({ position, postId: p.id, addedAt: p.createdAt, post: p })),
});

describe('collections', () => {
  it('creates a collection (with an idempotency key), opens it and shows its share link', async () => {
    let list: Collection[] = [];
    const keys: (string | null)[] = [];
    const server = fakeServer(
      on('GET', '/api/v1/users/me/collections', () => json(200, { items: list })),
      on('POST', '/api/v1/collections', (request) => {
        keys.push(request.headers.get('idempotency-key'));
        list = [collection()];
        return json(201, collection());
      }),
      on('GET', `/api/v1/collections/${ID}`, () => json(200, detail(collection(), []))),
    );
    renderRoute(routes, '/collections', await signedInAs(server, mine));
    expect(await screen.findByText('No collections yet.')).toBeTruthy();
    await userEvent.type(screen.getByLabelText('Title'), '  Trips ');
    await userEvent.click(screen.getByRole('button', { name: 'Create collection' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Trips' })).toBeTruthy();
    const create = server.requests.find((r) => r.path === '/api/v1/collections');
    expect(create?.body).toEqual({ title: 'Trips', description: '', visibility: 'friends' });
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect((screen.getByLabelText('Link to this collection') as HTMLInputElement).value).toBe(
      `${location.origin}/collections/${ID}`,
    );
    expect(screen.getByText('Your friends can open this link.')).toBeTruthy();
    expect(screen.getByText(/No posts in this collection yet/)).toBeTruthy();
  });

  it("shows someone else's collection in order, without handles or owner tools", async () => {
    const theirs = collection({ owner: ana, title: 'Ana picks', visibility: 'public' });
    const server = fakeServer(
      on('GET', `/api/v1/collections/${ID}`, () =>
        json(200, detail(theirs, [post(1, 'Second best'), post(2, 'Best <b>ever</b>')])),
      ),
    );
    renderRoute(routes, `/collections/${ID}`, await signedInAs(server, mine));
    const posts = await screen.findByRole('region', { name: 'Posts' });
    const items = await within(posts).findAllByRole('listitem');
    expect(items.map((li) => li.querySelector('.collection-item-text')?.textContent)).toEqual([
      'Second best',
      'Best <b>ever</b>',
    ]);
    expect(screen.queryByRole('button', { name: /^Move / })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete collection' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Remove / })).toBeNull();
    expect(screen.getByText('Anyone signed in to Kith can open this link.')).toBeTruthy();
  });

  it('lets its owner remove a post, and delete the collection after confirming', async () => {
    let posts = [post(1, 'Keep me'), post(2, 'Drop me')];
    const server = fakeServer(
      on('GET', `/api/v1/collections/${ID}`, () => json(200, detail(collection(), posts))),
      on('DELETE', `/api/v1/collections/${ID}/items/:postId`, (_r, _u, { postId }) => {
        posts = posts.filter((p) => p.id !== postId);
        return json(204);
      }),
      on('DELETE', `/api/v1/collections/${ID}`, () => json(204)),
      on('GET', '/api/v1/users/me/collections', () => json(200, { items: [] })),
    );
    renderRoute(routes, `/collections/${ID}`, await signedInAs(server, mine));
    // the owner gets a keyboard-operable handle per post, named with its place
    expect(await screen.findByRole('button', { name: 'Move Keep me, position 1 of 2' })).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Remove Drop me from the collection' }));
    await waitFor(() => expect(screen.queryByText('Drop me')).toBeNull());

    await userEvent.click(screen.getByRole('button', { name: 'Delete collection' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete collection' });
    expect(within(dialog).getByText('Delete “Trips”? The posts in it stay where they are.')).toBeTruthy();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete collection' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Collections' })).toBeTruthy();
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      `/api/v1/collections/${ID}/items/${post(2, '').id}`,
      `/api/v1/collections/${ID}`,
    ]);
  });

  it('lets its owner rename it in a dialog with the same fields as creating one (trimmed)', async () => {
    let current = collection({ description: 'Summer' });
    const server = fakeServer(
      on('GET', `/api/v1/collections/${ID}`, () => json(200, detail(current, []))),
      on('GET', '/api/v1/users/me/collections', () => json(200, { items: [current] })),
    );
    server.use(
      on('PATCH', `/api/v1/collections/${ID}`, async (request) => {
        current = { ...current, ...((await request.clone().json()) as Partial<Collection>) };
        return json(200, current);
      }),
    );
    renderRoute(routes, `/collections/${ID}`, await signedInAs(server, mine));
    await userEvent.click(await screen.findByRole('button', { name: 'Rename or change' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit collection' });
    const title = within(dialog).getByLabelText('Title') as HTMLInputElement;
    expect(title.value).toBe('Trips');
    expect((within(dialog).getByLabelText('Description (optional)') as HTMLTextAreaElement).value).toBe(
      'Summer',
    );
    await userEvent.clear(title);
    await userEvent.type(title, ' Road trips  ');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Road trips' })).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(server.requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      title: 'Road trips',
      description: 'Summer',
      visibility: 'friends',
    });
  });
});
