import { configure, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, on, renderRoute } from '../../test/render-route.tsx';
import type { Post } from '../../ui/post/post-card.tsx';
import { tagRoute, trendingRoute } from './index.ts';

beforeAll(() => Promise.all([import('./trending.lazy.tsx'), import('./tag.lazy.tsx')]));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

function post(n: number, text: string): Post {
  return {
    id: `0191f6a0-2222-7000-8000-00000000000${n}`,
    author: { id: '0191f6a0-0000-7000-8000-000000000001', username: 'ana', displayName: 'Ana' },
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

describe('trending tags', () => {
  it('lists the top hashtags with their uses, each linking to its page', async () => {
    fakeServer(
      on('GET', '/api/v1/tags/trending', () =>
        json(200, {
          items: [
            { tag: 'climbing', uses: 12 },
            { tag: 'café', uses: 1 },
          ],
          computedAt: new Date().toISOString(),
        }),
      ),
    );
    renderRoute([trendingRoute, tagRoute], '/tags');
    const list = await screen.findByRole('list', { name: 'Most used hashtags of the last 24 hours' });
    const rows = within(list).getAllByRole('listitem');
    expect(rows.map((r) => r.textContent)).toEqual(['#climbing12 uses today', '#café1 use today']);
    expect(within(list).getByRole('link', { name: '#café' }).getAttribute('href')).toBe('/tags/caf%C3%A9');
  });

  it('says when nothing is trending', async () => {
    fakeServer(on('GET', '/api/v1/tags/trending', () => json(200, { items: [], computedAt: null })));
    renderRoute([trendingRoute], '/tags');
    expect(await screen.findByText('No hashtag has been used in the last 24 hours.')).toBeTruthy();
  });

  it("shows the server's message on error", async () => {
    fakeServer(on('GET', '/api/v1/tags/trending', () => apiError(503, 'OVERLOADED', 'Kith is busy.')));
    renderRoute([trendingRoute], '/tags');
    expect((await screen.findByRole('alert')).textContent).toContain('Kith is busy.');
  });
});

describe('tag page', () => {
  it('shows the public posts with the tag, page by page', async () => {
    const server = fakeServer(
      on('GET', '/api/v1/tags/climbing/posts', (_r, url) =>
        url.searchParams.get('cursor') === 'p2'
          ? json(200, { items: [post(2, 'older #climbing')] })
          : json(200, { items: [post(1, 'new #climbing')], nextCursor: 'p2' }),
      ),
    );
    renderRoute([trendingRoute, tagRoute], '/tags/climbing');
    expect(await screen.findByRole('heading', { level: 1, name: '#climbing' })).toBeTruthy();
    const list = await screen.findByRole('list', { name: 'Posts tagged #climbing' });
    expect(within(list).getAllByRole('article')).toHaveLength(1);
    await userEvent.click(screen.getByRole('button', { name: 'Load more posts' }));
    await vi.waitFor(() => expect(within(list).getAllByRole('article')).toHaveLength(2));
    expect(screen.queryByRole('button', { name: 'Load more posts' })).toBeNull();
    const pages = server.requests.filter((r) => r.url.pathname === '/api/v1/tags/climbing/posts');
    expect(pages.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, 'p2']);
  });

  it('mutes the hashtag for me, and unmutes it', async () => {
    let muted: { tag: string; mutedAt: string; expiresAt: null }[] = [];
    const server = fakeServer(
      on('GET', '/api/v1/tags/climbing/posts', () => json(200, { items: [] })),
      on('GET', '/api/v1/mutes/hashtags', () => json(200, { items: muted })),
      on('PUT', '/api/v1/mutes/hashtags/climbing', () => {
        muted = [{ tag: 'climbing', mutedAt: '2026-12-01T10:00:00.000Z', expiresAt: null }];
        return json(200, muted[0]);
      }),
      on('DELETE', '/api/v1/mutes/hashtags/climbing', () => {
        muted = [];
        return json(204);
      }),
    );
    renderRoute([trendingRoute, tagRoute], '/tags/climbing');
    await userEvent.click(await screen.findByRole('button', { name: 'Mute #climbing' }));
    expect(await screen.findByRole('button', { name: 'Unmute #climbing' })).toBeTruthy();
    expect((await screen.findByRole('status')).textContent).toBe('#climbing is muted.');
    await userEvent.click(screen.getByRole('button', { name: 'Unmute #climbing' }));
    expect(await screen.findByRole('button', { name: 'Mute #climbing' })).toBeTruthy();
    expect(server.requests.filter((r) => r.method !== 'GET').map((r) => r.method)).toEqual(['PUT', 'DELETE']);
  });

  it('says when no post has the tag, and shows errors with their message', async () => {
    fakeServer(on('GET', '/api/v1/tags/empty/posts', () => json(200, { items: [] })));
    renderRoute([tagRoute], '/tags/empty');
    expect(await screen.findByText('No public posts with this hashtag yet.')).toBeTruthy();
    vi.unstubAllGlobals();
    fakeServer(
      on('GET', '/api/v1/tags/bad/posts', () => apiError(400, 'VALIDATION_FAILED', 'That is not a hashtag.')),
    );
    renderRoute([tagRoute], '/tags/bad');
    expect((await screen.findByRole('alert')).textContent).toContain('That is not a hashtag.');
  });
});
