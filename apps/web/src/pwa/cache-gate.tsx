import { IsRestoringProvider } from '@tanstack/react-query';
import { type ReactNode, useSyncExternalStore } from 'react';
import { cacheRestore } from './restore-state.ts';

/** Queries wait while the user's saved cache is read back, so offline they show it instead of failing. */
export function CacheGate({ children }: { children: ReactNode }) {
  const restoring = useSyncExternalStore(cacheRestore.subscribe, cacheRestore.isRestoring);
  return <IsRestoringProvider value={restoring}>{children}</IsRestoringProvider>;
}
