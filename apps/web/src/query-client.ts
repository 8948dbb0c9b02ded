import { MutationCache, QueryClient } from '@tanstack/react-query';
import { ApiError, NETWORK_ERROR } from './api/errors.ts';

/** Retries only what may succeed a moment later: no answer, or a 5xx other than 501. */
export function shouldRetry(failures: number, error: unknown): boolean {
  if (failures >= 2) return false;
  if (!(error instanceof ApiError)) return false;
  return error.code === NETWORK_ERROR || (error.status >= 500 && error.status !== 501);
}

/** `onMutationError` hears every failed mutation (main.tsx: a refused write may mean a new suspension). */
export function createQueryClient(onMutationError?: (error: unknown) => void): QueryClient {
  return new QueryClient({
    mutationCache: new MutationCache({ onError: (error) => onMutationError?.(error) }),
    defaultOptions: {
      queries: { staleTime: 30_000, retry: shouldRetry, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}
