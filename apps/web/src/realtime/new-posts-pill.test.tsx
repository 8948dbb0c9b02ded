import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import NewPostsPillButton from './new-posts-pill.tsx';
import { feedNews } from './realtime.ts';

describe('"N new posts" pill', () => {
  it('appears on feed.new counts without touching the feed, and on press re-reads it from the top', async () => {
    const queryClient = new QueryClient();
    const reset = vi.spyOn(queryClient, 'resetQueries').mockResolvedValue();
    const onShow = vi.fn();
    render(
      <QueryClientProvider client={queryClient}>
        <NewPostsPillButton onShow={onShow} />
      </QueryClientProvider>,
    );
    expect(screen.queryByRole('button')).toBeNull();
    act(() => feedNews.set(1));
    expect(screen.getByRole('button').textContent).toBe('1 new post');
    act(() => feedNews.set(feedNews.count + 2)); // coalesced events add up
    expect(screen.getByRole('button').textContent).toBe('3 new posts');
    expect(reset).not.toHaveBeenCalled(); // nothing moves under the reader

    await userEvent.click(screen.getByRole('button', { name: '3 new posts' }));
    expect(reset).toHaveBeenCalledWith({ queryKey: ['feed', 'home'] });
    expect(onShow).toHaveBeenCalledOnce();
    expect(screen.queryByRole('button')).toBeNull();
  });
});
