import type { QueryClient } from '@tanstack/react-query';
import type { AuthSession } from '../auth/session.ts';
import { setRestoring } from './restore-state.ts';

/** Starts the offline side of the app (pwa/offline.ts) in a chunk of its own, off the initial route. */
export function startOffline(context: { session: AuthSession; queryClient: QueryClient }): void {
  void import('./offline.ts').then((m) => m.startOffline(context)).catch(() => setRestoring(false));
}
