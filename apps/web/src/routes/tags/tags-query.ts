import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { api, call } from '../../api/client.ts';

/** The top hashtags of the last 24 hours (the server recomputes them every 10 minutes). */
export const trendingQuery = queryOptions({
  queryKey: ['tags', 'trending'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/tags/trending', { signal })),
  staleTime: 60_000,
});

/** Public posts with a hashtag, newest first, over the server's keyset cursors. */
export const tagPostsQuery = (tag: string) =>
  infiniteQueryOptions({
    queryKey: ['tags', tag.toLowerCase(), 'posts'],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/tags/{tag}/posts', {
          params: { path: { tag }, query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
