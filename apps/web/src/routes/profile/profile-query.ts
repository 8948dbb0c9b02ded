import { infiniteQueryOptions, type QueryClient, queryOptions } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';

export type Profile = ResponseOf<'/api/v1/users/{username}', 'get'>;
export type Friend = ResponseOf<'/api/v1/users/{username}/friends', 'get'>['items'][number];

const PAGE_SIZE = 20;

/** A user's profile, counts and my relationship to them. */
export const profileQuery = (username: string) =>
  queryOptions({
    queryKey: ['users', username, 'profile'],
    queryFn: ({ signal }) =>
      call(api.GET('/api/v1/users/{username}', { params: { path: { username } }, signal })),
  });

/** The posts of a user that I may see, newest first. */
export const userPostsQuery = (username: string) =>
  infiniteQueryOptions({
    queryKey: ['users', username, 'posts'],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/users/{username}/posts', {
          params: {
            path: { username },
            query: { limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });

/** A user's friends. */
export const friendsQuery = (username: string) =>
  infiniteQueryOptions({
    queryKey: ['users', username, 'friends'],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/users/{username}/friends', {
          params: {
            path: { username },
            query: { limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });

/** Keys one idempotency key per person asked, so a retry of the same request never asks twice. */
const requestKeys = new Map<string, string>();

/** The calls that change who is whose friend; each answer refreshes what it changed. */
export const relationship = {
  ask: async (username: string) => {
    const key = requestKeys.get(username) ?? crypto.randomUUID();
    requestKeys.set(username, key);
    const result = await call(
      api.POST('/api/v1/friend-requests', {
        body: { username },
        params: { header: { 'idempotency-key': key } },
      }),
    );
    requestKeys.delete(username);
    return result;
  },
  accept: (id: string) => call(api.POST('/api/v1/friend-requests/{id}/accept', { params: { path: { id } } })),
  decline: (id: string) =>
    call(api.POST('/api/v1/friend-requests/{id}/decline', { params: { path: { id } } })),
  cancel: (id: string) => call(api.DELETE('/api/v1/friend-requests/{id}', { params: { path: { id } } })),
  unfriend: (username: string) =>
    call(api.DELETE('/api/v1/friends/{username}', { params: { path: { username } } })),
  block: (username: string) => call(api.PUT('/api/v1/blocks/{username}', { params: { path: { username } } })),
  unblock: (username: string) =>
    call(api.DELETE('/api/v1/blocks/{username}', { params: { path: { username } } })),
};

/** After any change of relationship: profiles, friend lists and requests are read again. */
export function refreshRelationships(queryClient: QueryClient): Promise<void> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: ['users'] }),
    queryClient.invalidateQueries({ queryKey: ['friend-requests'] }),
    queryClient.invalidateQueries({ queryKey: ['blocks'] }),
  ]).then(() => undefined);
}
