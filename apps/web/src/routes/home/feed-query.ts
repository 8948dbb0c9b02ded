import { infiniteQueryOptions } from '@tanstack/react-query';
import { api, call } from '../../api/client.ts';

export const FEED_PAGE_SIZE = 20;

/** The home feed, page by page over the server's keyset cursors. */
export const feedQuery = infiniteQueryOptions({
  queryKey: ['feed', 'home'],
  queryFn: ({ pageParam, signal }) =>
    call(
      api.GET('/api/v1/feed', {
        params: { query: { limit: FEED_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        signal,
      }),
    ),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: (last) => last.nextCursor,
});
