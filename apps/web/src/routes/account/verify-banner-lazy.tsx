import { lazy, Suspense } from 'react';
import type { Me } from '../../auth/session.ts';

const LazyBanner = lazy(() => import('./screens.ts').then((m) => ({ default: m.Banner })));
const LazySuspended = lazy(() => import('./screens.ts').then((m) => ({ default: m.Suspended })));

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

/** The suspension banner (role="status"), for a suspended account only; its code loads only for them. */
export function SuspendedBanner({ user }: { user: Me }) {
  // a user saved for offline use by an older version has no such field
  if (!user.suspension || Date.parse(user.suspension.until) <= Date.now()) return null;
  return (
    <Suspense fallback={null}>
      <LazySuspended suspension={user.suspension} />
    </Suspense>
  );
}
