import {
  type InfiniteData,
  infiniteQueryOptions,
  type QueryClient,
  queryOptions,
} from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';

export type NotificationPage = ResponseOf<'/api/v1/notifications', 'get'>;
export type Notification = NotificationPage['items'][number];

export const NOTIFICATIONS_PAGE_SIZE = 20;

/** My notifications, newest activity first, page by page over the server's keyset cursors. */
export const notificationsQuery = infiniteQueryOptions({
  queryKey: ['notifications', 'list'],
  queryFn: ({ pageParam, signal }) =>
    call(
      api.GET('/api/v1/notifications', {
        params: { query: { limit: NOTIFICATIONS_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        signal,
      }),
    ),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: (last) => last.nextCursor,
});

/** How many notifications are unread (the navigation shows it too). */
export const unreadCountQuery = queryOptions({
  queryKey: ['notifications', 'unread'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/notifications/unread-count', { signal })),
});

/** Marks read every notification up to `upTo` (it and everything older). */
export function markReadUpTo(upTo: string) {
  return call(api.POST('/api/v1/notifications/read', { body: { upTo } }));
}

/**
 * After the server marked up to `upTo`: that item and every one listed after it (older) read in
 * the cache, and the unread count the server answered.
 */
export function applyMarkedRead(queryClient: QueryClient, upTo: string, unreadCount: number): void {
  queryClient.setQueryData<InfiniteData<NotificationPage, string | undefined>>(
    notificationsQuery.queryKey,
    (data) => {
      if (!data) return data;
      let reached = false;
      return {
        ...data,
        pages: data.pages.map((page) => ({
          ...page,
          items: page.items.map((n) => {
            if (n.id === upTo) reached = true;
            return reached && !n.read ? { ...n, read: true } : n;
          }),
        })),
      };
    },
  );
  queryClient.setQueryData(unreadCountQuery.queryKey, { count: unreadCount });
}
