import { lazy, Suspense } from 'react';

const Chrome = lazy(() => import('./offline-chrome.tsx'));

/** The update prompt, offline notice and outbox, loaded after the screen (not in the initial JavaScript). */
export function OfflineChrome() {
  if (typeof indexedDB === 'undefined') return null;
  return (
    <Suspense fallback={null}>
      <Chrome />
    </Suspense>
  );
}
