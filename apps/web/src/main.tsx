import { type QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { session } from './auth/session.ts';
import { initI18n } from './i18n/index.ts';
import { CacheGate } from './pwa/cache-gate.tsx';
import { startOffline } from './pwa/start.ts';
import { createQueryClient } from './query-client.ts';
import { createAppRouter } from './router.tsx';
import { refreshOnSuspension } from './routes/account/account-query.ts';
import { applyTheme } from './theme/theme.ts';
import './styles.css';

applyTheme();
// a write refused for a suspension: read /me again, so the banner says why (and until when)
const queryClient: QueryClient = createQueryClient(refreshOnSuspension(() => queryClient, session));
const router = createAppRouter({ queryClient, session });
// before the session is known: the user's saved cache must be restoring by the time screens query
startOffline({ session, queryClient });

// A different user (or none) must never see the previous one's cached data.
let userId: string | undefined;
session.subscribe(() => {
  const state = session.getState();
  const next = state.status === 'signedIn' ? state.user.id : undefined;
  if (next !== userId) {
    if (userId !== undefined) queryClient.clear();
    userId = next;
    void router.invalidate();
  }
});

await initI18n();
void session.restore();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <CacheGate>
        <RouterProvider router={router} />
      </CacheGate>
    </QueryClientProvider>
  </StrictMode>,
);

// real-user monitoring is not needed for the first paint: its code (and web-vitals) loads after it;
// the vitals are observed with buffered entries, so nothing measured before is lost
void import('./rum/rum.ts').then(({ startRum }) =>
  startRum({
    // the matched route's pattern: `/posts/$postId`, never the concrete URL
    routePattern: () => router.state.matches.at(-1)?.fullPath ?? '/',
  }),
);
