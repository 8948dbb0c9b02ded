import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { api, call } from '../../api/client.ts';

export const postQuery = (id: string) =>
  queryOptions({
    queryKey: ['post', id],
    queryFn: ({ signal }) => call(api.GET('/api/v1/posts/{id}', { params: { path: { id } }, signal })),
  });

export const commentsQuery = (id: string) =>
  infiniteQueryOptions({
    queryKey: ['post', id, 'comments'],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/posts/{id}/comments', {
          params: { path: { id }, query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
