import { queryOptions } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';
import { ApiError } from '../../api/errors.ts';

export type DeviceSession = ResponseOf<'/api/v1/auth/sessions', 'get'>['items'][number];
export type DataExport = ResponseOf<'/api/v1/me/export', 'get'>;

/** My signed-in sessions (devices). */
export const sessionsQuery = queryOptions({
  queryKey: ['settings', 'sessions'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/auth/sessions', { signal })),
});

/** My latest data export, or null when I never asked for one; polled while it is being made. */
export const exportQuery = queryOptions({
  queryKey: ['settings', 'export'],
  queryFn: async ({ signal }): Promise<DataExport | null> => {
    try {
      return await call(api.GET('/api/v1/me/export', { signal }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  },
  refetchInterval: (query) => (query.state.data?.status === 'pending' ? 2_000 : false),
});
