import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { api, type BodyOf, call, type ResponseOf } from '../../api/client.ts';
import type { QueueSearch } from './index.ts';

export type CaseSummary = ResponseOf<'/api/v1/moderation/cases', 'get'>['items'][number];
export type CaseDetail = ResponseOf<'/api/v1/moderation/cases/{id}', 'get'>;
export type Decision = BodyOf<'/api/v1/moderation/cases/{id}/resolve', 'post'>;
export type Notice = ResponseOf<'/api/v1/moderation/notices/{id}', 'get'>;

type Reason = NonNullable<CaseSummary['reasons'][number]>;

/** The queue, oldest first, one keyset page at a time. */
export const queueQuery = (search: QueueSearch) =>
  infiniteQueryOptions({
    queryKey: ['moderation', 'queue', search.status ?? 'open', search.reason ?? '', search.targetType ?? ''],
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET('/api/v1/moderation/cases', {
          params: {
            query: {
              limit: 20,
              status: search.status ?? 'open',
              ...(search.reason ? { reason: search.reason as Reason } : {}),
              ...(search.targetType ? { targetType: search.targetType } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export const caseQuery = (id: string) =>
  queryOptions({
    queryKey: ['moderation', 'case', id],
    queryFn: ({ signal }) =>
      call(api.GET('/api/v1/moderation/cases/{id}', { params: { path: { id } }, signal })),
  });

export const noticeQuery = (id: string) =>
  queryOptions({
    queryKey: ['moderation', 'notice', id],
    queryFn: ({ signal }) =>
      call(api.GET('/api/v1/moderation/notices/{id}', { params: { path: { id } }, signal })),
  });

/** A ban notice read through its signed link (no session). */
export const noticeByLinkQuery = (id: string, token: string) =>
  queryOptions({
    queryKey: ['moderation', 'notice', id, 'link'],
    queryFn: ({ signal }) =>
      call(
        api.GET('/api/v1/moderation/notices/{id}/by-link', {
          params: { path: { id }, query: { token } },
          signal,
        }),
      ),
  });

export const moderation = {
  resolve: (id: string, decision: Decision) =>
    call(api.POST('/api/v1/moderation/cases/{id}/resolve', { params: { path: { id } }, body: decision })),
  appeal: (id: string, text: string) =>
    call(api.POST('/api/v1/moderation/notices/{id}/appeal', { params: { path: { id } }, body: { text } })),
  appealByLink: (id: string, token: string, text: string) =>
    call(
      api.POST('/api/v1/moderation/notices/{id}/appeal-by-link', {
        params: { path: { id } },
        body: { token, text },
      }),
    ),
};
