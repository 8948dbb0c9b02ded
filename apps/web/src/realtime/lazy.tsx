import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect } from 'react';
import { session } from '../auth/session.ts';

/**
 * The only realtime code in the first route's JavaScript: it starts the realtime client after the
 * first paint (idle time), and the connection badge and the "N new posts" pill load with it.
 */
export function RealtimeMount() {
  const queryClient = useQueryClient();
  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    const begin = () => {
      void import('./realtime.ts').then((m) => {
        if (!cancelled) stop = m.startRealtime(queryClient, session);
      });
    };
    const idle = globalThis.requestIdleCallback
      ? globalThis.requestIdleCallback(begin, { timeout: 2000 })
      : setTimeout(begin, 200);
    return () => {
      cancelled = true;
      if (globalThis.cancelIdleCallback && typeof idle === 'number') globalThis.cancelIdleCallback(idle);
      clearTimeout(idle as ReturnType<typeof setTimeout>);
      stop?.();
    };
  }, [queryClient]);
  return null;
}

const LazyStatus = lazy(() => import('./connection-status.tsx'));
const LazyPill = lazy(() => import('./new-posts-pill.tsx'));

/**
 * "live" / "reconnecting…" / "offline", announced politely. Its slot keeps the room of the
 * badge's longest English label (styles.css) before the lazy chunk arrives, so the top bar does
 * not move when it does.
 */
export function ConnectionStatus() {
  return (
    <span className="connection-slot">
      <Suspense fallback={null}>
        <LazyStatus />
      </Suspense>
    </span>
  );
}

/** "N new posts": shown above the feed instead of moving it under the reader. */
export function NewPostsPill({ onShow }: { onShow: () => void }) {
  return (
    <Suspense fallback={null}>
      <LazyPill onShow={onShow} />
    </Suspense>
  );
}
