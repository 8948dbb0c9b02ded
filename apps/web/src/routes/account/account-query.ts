import { type QueryClient, queryOptions, useMutation } from '@tanstack/react-query';
import { useRouterState } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { api, call } from '../../api/client.ts';
import { ApiError } from '../../api/errors.ts';
import type { AuthSession } from '../../auth/session.ts';

/** Who I am, as the server says now (the session keeps the copy the app shell reads). */
export const meQuery = queryOptions({
  queryKey: ['me'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/me', { signal })),
});

/**
 * After a change of my address or its confirmation: reads /me again and hands it to the session,
 * so the verify banner and the settings show the new state at once. Signed out, nothing to do.
 */
export async function refreshMe(queryClient: QueryClient, session: AuthSession): Promise<void> {
  if (session.getState().status !== 'signedIn') return;
  const me = await queryClient.fetchQuery({ ...meQuery, staleTime: 0 });
  session.updateUser(me);
}

/**
 * Hears every failed mutation: a write refused with ACCOUNT_SUSPENDED means my account was
 * suspended since the session read /me, so /me is read again and the suspended banner appears.
 */
export function refreshOnSuspension(queryClient: () => QueryClient, session: AuthSession) {
  return (error: unknown) => {
    if (error instanceof ApiError && error.code === 'ACCOUNT_SUSPENDED')
      void refreshMe(queryClient(), session).catch(() => undefined);
  };
}

/**
 * The `?token=` of a link from an e-mail, read here rather than by the routes' `validateSearch` (that
 * would ship with the first route's JavaScript). The server judges it: a mangled one gets its message.
 */
export function useLinkToken(): string | undefined {
  const search = useRouterState({ select: (s) => s.location.searchStr });
  const token = new URLSearchParams(search).get('token');
  return token && token.length <= 512 ? token : undefined;
}

/** The server's answer to a used, expired, unknown or other-purpose link. */
export const isBadToken = (error: unknown) =>
  error instanceof ApiError && error.code === 'INVALID_ACCOUNT_TOKEN';

/**
 * Runs `post(token)` once when the page opens with a token — once per token, however often React
 * runs the effect (StrictMode runs it twice in development; the ref survives that remount).
 */
export function usePostOnArrival<T>(token: string | undefined, post: (token: string) => Promise<T>) {
  const mutation = useMutation({ mutationFn: post });
  const posted = useRef<string | undefined>(undefined);
  const { mutate } = mutation;
  useEffect(() => {
    if (!token || posted.current === token) return;
    posted.current = token;
    mutate(token);
  }, [token, mutate]);
  return mutation;
}
