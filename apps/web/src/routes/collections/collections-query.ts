import { infiniteQueryOptions, type QueryClient, queryOptions } from '@tanstack/react-query';
import { api, type BodyOf, call, type ResponseOf } from '../../api/client.ts';

export type Collection = ResponseOf<'/api/v1/users/{username}/collections', 'get'>['items'][number];
export type CollectionDetail = ResponseOf<'/api/v1/collections/{id}', 'get'>;
export type CollectionItem = CollectionDetail['items'][number];
export type CollectionChanges = BodyOf<'/api/v1/collections/{id}', 'patch'>;
export type Visibility = Collection['visibility'];

/** A user's collections that I may see, newest first. */
export const userCollectionsQuery = (username: string) =>
  infiniteQueryOptions({
    queryKey: ['collections', 'user', username],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/users/{username}/collections', {
          params: { path: { username }, query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });

/** One collection with its items in order, page by page (50 a page: the server's largest). */
export const collectionQuery = (id: string) =>
  infiniteQueryOptions({
    queryKey: ['collections', 'one', id],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/collections/{id}', {
          params: { path: { id }, query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });

/** Only the header of a collection (its first page), e.g. for a title. */
export const collectionHeadQuery = (id: string) =>
  queryOptions({
    queryKey: ['collections', 'head', id],
    queryFn: ({ signal }) =>
      call(api.GET('/api/v1/collections/{id}', { params: { path: { id }, query: { limit: 1 } }, signal })),
  });

/** Idempotency keys kept per attempt, so a retried create or add never happens twice. */
const attempts = new Map<string, string>();
const keyFor = (attempt: string) => {
  const key = attempts.get(attempt) ?? crypto.randomUUID();
  attempts.set(attempt, key);
  return key;
};

/** The calls that change collections. */
export const collections = {
  create: async (body: { title: string; description?: string; visibility?: Visibility }) => {
    const attempt = `create:${JSON.stringify(body)}`;
    const created = await call(
      api.POST('/api/v1/collections', { body, params: { header: { 'idempotency-key': keyFor(attempt) } } }),
    );
    attempts.delete(attempt);
    return created;
  },
  update: (id: string, body: CollectionChanges) =>
    call(api.PATCH('/api/v1/collections/{id}', { params: { path: { id } }, body })),
  remove: (id: string) => call(api.DELETE('/api/v1/collections/{id}', { params: { path: { id } } })),
  addPost: async (id: string, postId: string) => {
    const attempt = `add:${id}:${postId}`;
    const item = await call(
      api.POST('/api/v1/collections/{id}/items', {
        params: { path: { id }, header: { 'idempotency-key': keyFor(attempt) } },
        body: { postId },
      }),
    );
    attempts.delete(attempt);
    return item;
  },
  removePost: (id: string, postId: string) =>
    call(api.DELETE('/api/v1/collections/{id}/items/{postId}', { params: { path: { id, postId } } })),
  reorder: (id: string, postIds: string[]) =>
    call(api.PUT('/api/v1/collections/{id}/items', { params: { path: { id } }, body: { postIds } })),
};

/** After a change: every list and page of collections is read again. */
export const refreshCollections = (queryClient: QueryClient) =>
  queryClient.invalidateQueries({ queryKey: ['collections'] });
