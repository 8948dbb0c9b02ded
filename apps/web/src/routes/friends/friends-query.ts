import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';

export type FriendRequest = ResponseOf<'/api/v1/friend-requests', 'get'>['items'][number];
export type Direction = 'incoming' | 'outgoing';

/** Pending friend requests to me (incoming) or from me (outgoing), newest first. */
export const requestsQuery = (direction: Direction) =>
  infiniteQueryOptions({
    queryKey: ['friend-requests', direction],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/friend-requests', {
          params: { query: { direction, limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });

/** People whose username or display name starts with `term` (at most 20). */
export const userSearchQuery = (term: string) =>
  queryOptions({
    queryKey: ['users', 'search', term],
    queryFn: ({ signal }) => call(api.GET('/api/v1/users', { params: { query: { query: term } }, signal })),
    enabled: term.trim() !== '',
    staleTime: 10_000,
  });

export type Blocked = ResponseOf<'/api/v1/blocks', 'get'>['items'][number];

/** The people I blocked, most recent first. */
export const blockedQuery = () =>
  infiniteQueryOptions({
    queryKey: ['blocks'],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/blocks', {
          params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
