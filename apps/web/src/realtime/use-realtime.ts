import { useEffect, useRef, useSyncExternalStore } from 'react';
import { chatStore, currentHub, subscribeHub } from './realtime.ts';
import type { ConnectionState } from './socket.ts';

const subscribeState = (listener: () => void) => {
  let stopState = currentHub()?.subscribeState(listener);
  const stopHub = subscribeHub(() => {
    stopState?.();
    stopState = currentHub()?.subscribeState(listener);
    listener();
  });
  return () => {
    stopHub();
    stopState?.();
  };
};

/** The connection state of the shared socket ('offline' while signed out). */
export function useConnectionState(): ConnectionState | undefined {
  return useSyncExternalStore(subscribeState, () => currentHub()?.state);
}

/** Re-renders on every change of the chat store; returns it. */
export function useChatStore() {
  useSyncExternalStore(chatStore.subscribe, chatStore.getVersion);
  return chatStore;
}

/**
 * While the shared socket is not live (reconnecting, offline, or not started), calls `poll` every
 * `everyMs` — the REST history stands in for the socket — and once more when it comes back.
 */
export function usePollWhileDown(poll: () => void, everyMs: number): void {
  const state = useConnectionState();
  const latest = useRef(poll);
  latest.current = poll;
  useEffect(() => {
    if (state === 'live') return;
    const timer = setInterval(() => latest.current(), everyMs);
    return () => clearInterval(timer);
  }, [state, everyMs]);
}
