import type { QueryClient } from '@tanstack/react-query';
import { redirect } from '@tanstack/react-router';
import type { AuthSession } from './auth/session.ts';
import { loadBanners } from './routes/account/verify-banner-lazy.tsx';

export interface RouterContext {
  queryClient: QueryClient;
  session: AuthSession;
}

/** `beforeLoad` of every screen that needs a signed-in user: others go to the login screen. */
export async function requireSignedIn({
  context,
  location,
}: {
  context: RouterContext;
  location: { href: string };
}): Promise<void> {
  const state = await context.session.ready();
  if (state.status !== 'signedIn') throw redirect({ to: '/login', search: { next: location.href } });
  // a banner above the screen is here before the screen is, so it never pushes the screen down
  await loadBanners(state.user);
}

/** `beforeLoad` of the login and signup screens: a signed-in user goes to the feed. */
export async function requireSignedOut({ context }: { context: RouterContext }): Promise<void> {
  const state = await context.session.ready();
  if (state.status === 'signedIn') throw redirect({ to: '/' });
}

/** Only a path of this site may be a `next` target (no `//host`, no scheme). */
export function safeNext(value: unknown): string | undefined {
  return typeof value === 'string' &&
    value.startsWith('/') &&
    !value.startsWith('//') &&
    !value.includes('\\')
    ? value
    : undefined;
}
