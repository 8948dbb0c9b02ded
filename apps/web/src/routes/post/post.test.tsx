import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import type { Post } from '../../ui/post/post-card.tsx';
import type { Comment } from './comment-item.tsx';
import { postRoute } from './index.ts';

beforeAll(() => import('./post.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const mine = me();
const author = { id: mine.id, username: mine.username, displayName: mine.displayName };
const ben = { id: '0191f6a0-0000-7000-8000-000000000002', username: 'ben', displayName: 'Ben' };
const POST = '0191f6a0-2222-7000-8000-000000000001';

const post = (over: Partial<Post> = {}): Post =>
  ({
    id: POST,
    author,
    text: 'Hello there',
    visibility: 'friends',
    entities: [],
    media: [],
    counts: { comments: 2, reactions: { like: 0, love: 0, laugh: 0, wow: 0, sad: 0 } },
    myReaction: null,
    createdAt: new Date().toISOString(),
    editedAt: null,
    ...over,
  }) as Post;
const comment = (n: number, by: Comment['author'], text: string): Comment => ({
  id: `0191f6a0-4444-7000-8000-00000000000${n}`,
  postId: POST,
  author: by,
  text,
  entities: [],
  createdAt: new Date().toISOString(),
  editedAt: null,
});

describe('post page: editing and deleting', () => {
  it('edits my comment in a dialog; only deletes (never edits) someone else’s on my post', async () => {
    let comments = [comment(1, ben, 'Nice'), comment(2, author, 'Thx, tpyo')];
    const server = fakeServer(
      on('GET', `/api/v1/posts/${POST}`, () => json(200, post())),
      on('GET', `/api/v1/posts/${POST}/comments`, () => json(200, { items: comments })),
      on('PATCH', '/api/v1/comments/:id', async (request, _u, { id }) => {
        const { text } = (await request.json()) as { text: string };
        comments = comments.map((c) =>
          c.id === id ? { ...c, text, editedAt: new Date().toISOString() } : c,
        );
        return json(200, comments.find((c) => c.id === id) ?? null);
      }),
    );
    renderRoute([postRoute], `/posts/${POST}`, await signedInAs(server, mine));
    await screen.findByText('Thx, tpyo');
    expect(screen.queryByRole('button', { name: 'Edit comment by Ben' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Delete comment by Ben' })).toBeTruthy();

    await userEvent.click(screen.getByRole('button', { name: 'Edit comment by Me Myself' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit comment' });
    const field = within(dialog).getByLabelText('Text of the comment');
    expect(document.activeElement).toBe(field);
    await userEvent.clear(field);
    await userEvent.type(field, 'Thx, typo fixed');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Thx, typo fixed')).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByText(/edited/)).toBeTruthy();
    expect(server.requests.filter((r) => r.method === 'PATCH').map((r) => [r.path, r.body])).toEqual([
      [`/api/v1/comments/${comments[1]!.id}`, { text: 'Thx, typo fixed' }],
    ]);
  });

  it("keeps the edit dialog open with the server's message when it refuses", async () => {
    const server = fakeServer(
      on('GET', `/api/v1/posts/${POST}`, () => json(200, post())),
      on('GET', `/api/v1/posts/${POST}/comments`, () => json(200, { items: [] })),
      on('PATCH', `/api/v1/posts/${POST}`, () => apiError(400, 'VALIDATION_FAILED', 'The text is empty.')),
    );
    renderRoute([postRoute], `/posts/${POST}`, await signedInAs(server, mine));
    await userEvent.click(await screen.findByRole('button', { name: 'Edit post' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit post' });
    const field = within(dialog).getByLabelText('Text of the post');
    await userEvent.clear(field);
    await userEvent.type(field, '   x');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('The text is empty.');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByText('Hello there')).toBeTruthy();
  });
});
