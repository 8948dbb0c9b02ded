import { lazy, Suspense, useState } from 'react';
import type { Me } from '../../auth/session.ts';

/** The banners' chunk, once here: a banner then renders in the same commit as the screen under it. */
let chunk: typeof import('./screens.ts') | undefined;
/** The chunk as it was when the banner mounted: a banner that mounted lazily stays so (no remount). */
const useChunk = () => useState(() => chunk)[0];
const load = () =>
  import('./screens.ts').then((m) => {
    chunk = m;
    return m;
  });
const LazyBanner = lazy(() => load().then((m) => ({ default: m.Banner })));
const LazySuspended = lazy(() => load().then((m) => ({ default: m.Suspended })));

// `!== false`: a user saved for offline use by an older version has no such field
const unverified = (user: Me) => user.emailVerified === false;
const suspended = (user: Me) => !!user.suspension && Date.parse(user.suspension.until) > Date.now();

/**
 * For a user who sees a banner: its code, loaded before a signed-in screen renders (`requireSignedIn`
 * awaits it). A banner that came after the screen would push it down (a layout shift). Never fails.
 */
export const loadBanners = (user: Me) =>
  !chunk && (unverified(user) || suspended(user)) ? load().catch(() => undefined) : undefined;

/**
 * The verify banner, for a signed-in user whose address is not confirmed. Its code loads only for
 * them: the first route's JavaScript carries just this wrapper.
 */
export function VerifyBanner({ user }: { user: Me }) {
  const loaded = useChunk();
  if (!unverified(user)) return null;
  return loaded ? (
    <loaded.Banner user={user} />
  ) : (
    <Suspense fallback={null}>
      <LazyBanner user={user} />
    </Suspense>
  );
}

/** The suspension banner (role="status"), for a suspended account only; its code loads only for them. */
export function SuspendedBanner({ user }: { user: Me }) {
  const loaded = useChunk();
  if (!suspended(user)) return null;
  const suspension = user.suspension!;
  return loaded ? (
    <loaded.Suspended suspension={suspension} />
  ) : (
    <Suspense fallback={null}>
      <LazySuspended suspension={suspension} />
    </Suspense>
  );
}
