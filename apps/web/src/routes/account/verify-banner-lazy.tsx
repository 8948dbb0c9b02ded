import { lazy, Suspense } from 'react';
import type { Me } from '../../auth/session.ts';

const LazyBanner = lazy(() => import('./screens.ts').then((m) => ({ default: m.Banner })));

/**
 * The verify banner, for a signed-in user whose address is not confirmed. Its code loads only for
 * them: the first route's JavaScript carries just this wrapper.
 */
export function VerifyBanner({ user }: { user: Me }) {
  // `!== false`: a user saved for offline use by an older version has no such field
  if (user.emailVerified !== false) return null;
  return (
    <Suspense fallback={null}>
      <LazyBanner user={user} />
    </Suspense>
  );
}
