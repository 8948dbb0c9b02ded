import type { ChatMessage } from '@kith/contract';
import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';
import { CHAT_KEYS } from '../../realtime/realtime.ts';

export type ConversationDetail = ResponseOf<'/api/v1/conversations/{id}', 'get'>;
export type Member = ConversationDetail['members'][number];

/** My conversations, latest activity first (kept fresh by realtime events). */
export const conversationsQuery = infiniteQueryOptions({
  queryKey: CHAT_KEYS.conversations,
  queryFn: ({ pageParam, signal }) =>
    call(
      api.GET('/api/v1/conversations', {
        params: { query: { limit: 30, ...(pageParam ? { cursor: pageParam } : {}) } },
        signal,
      }),
    ),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: (last) => last.nextCursor,
});

export const conversationQuery = (id: string) =>
  queryOptions({
    queryKey: CHAT_KEYS.conversation(id),
    queryFn: ({ signal }) =>
      call(api.GET('/api/v1/conversations/{id}', { params: { path: { id } }, signal })),
  });

export const HISTORY_PAGE = 50;

/** A page of messages: the newest (no bound), those before a seq (older) or after one (newer). */
export async function fetchMessages(
  id: string,
  bound: { before?: number; after?: number },
  signal?: AbortSignal,
): Promise<{ items: ChatMessage[]; hasMore: boolean }> {
  const page = await call(
    api.GET('/api/v1/conversations/{id}/messages', {
      params: {
        path: { id },
        query: {
          limit: HISTORY_PAGE,
          ...(bound.before !== undefined ? { before: String(bound.before) } : {}),
          ...(bound.after !== undefined ? { after: String(bound.after) } : {}),
        },
      },
      ...(signal ? { signal } : {}),
    }),
  );
  return { items: page.items as ChatMessage[], hasMore: page.hasMore };
}

export function createConversation(usernames: string[], title?: string) {
  return call(api.POST('/api/v1/conversations', { body: { usernames, ...(title ? { title } : {}) } }));
}

export function addMember(id: string, username: string) {
  return call(
    api.POST('/api/v1/conversations/{id}/members', { params: { path: { id } }, body: { username } }),
  );
}

/** Removes a member (admins), or leaves (my own username). */
export function removeMember(id: string, username: string) {
  return call(
    api.DELETE('/api/v1/conversations/{id}/members/{username}', { params: { path: { id, username } } }),
  );
}

export function editMessage(id: string, body: string) {
  return call(api.PATCH('/api/v1/messages/{id}', { params: { path: { id } }, body: { body } }));
}

export function deleteMessage(id: string) {
  return call(api.DELETE('/api/v1/messages/{id}', { params: { path: { id } } }));
}

export function markReadOverHttp(id: string, seq: number) {
  return call(api.POST('/api/v1/conversations/{id}/read', { params: { path: { id } }, body: { seq } }));
}

/** A conversation's name as a person reads it: its title, the other member, or the members. */
export function conversationName(
  c: { title: string | null; peer: { displayName: string; username: string } | null },
  fallback: string,
): string {
  return c.title ?? c.peer?.displayName ?? fallback;
}
