import { infiniteQueryOptions } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';

export type StaffUser = ResponseOf<'/api/v1/admin/users/{id}/ban', 'post'>;
export type Role = StaffUser['role'];
export const ROLES: readonly Role[] = ['user', 'moderator', 'admin'];

/** The audit log, newest first (admins only). */
export const auditLogQuery = infiniteQueryOptions({
  queryKey: ['staff', 'audit-log'],
  queryFn: ({ pageParam, signal }) =>
    call(
      api.GET('/api/v1/admin/audit-log', {
        params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } },
        signal,
      }),
    ),
  initialPageParam: undefined as string | undefined,
  getNextPageParam: (last) => last.nextCursor ?? undefined,
});

export const staff = {
  setRole: (id: string, role: Role) =>
    call(api.POST('/api/v1/admin/users/{id}/role', { params: { path: { id } }, body: { role } })),
  ban: (id: string) => call(api.POST('/api/v1/admin/users/{id}/ban', { params: { path: { id } } })),
};
