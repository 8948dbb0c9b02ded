import { onlineManager } from '@tanstack/react-query';

/** While offline, how often navigator.onLine is read again (a property read: no request). */
export const RECHECK_EVERY_MS = 3000;

interface NetworkEnv {
  target: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  document: Pick<Document, 'addEventListener' | 'removeEventListener' | 'visibilityState'>;
  onLine: () => boolean;
  setInterval: (fn: () => void, ms: number) => unknown;
  clearInterval: (handle: unknown) => void;
}

const browserEnv = (): NetworkEnv => ({
  target: window,
  document,
  onLine: () => navigator.onLine,
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
});

/**
 * Makes TanStack Query's onlineManager — which the queries, the outbox, the realtime client and
 * the session's token refresh all follow — robust: the `online` event alone is not enough (a page
 * loaded under Firefox's offline emulation never hears it when the network returns, and a laptop
 * waking up may not send it). Besides the events, navigator.onLine is read again when the tab
 * becomes visible or focused and every few seconds while offline; any request that got an answer
 * says online too (`markReachable`). Only the `offline` event (or navigator.onLine false at the
 * start) says offline: a check never does, so an answer from the server is not overruled by it.
 */
export function watchNetwork(env: NetworkEnv = browserEnv()): void {
  onlineManager.setEventListener((setOnline) => {
    let timer: unknown;
    const stopTimer = () => {
      if (timer === undefined) return;
      env.clearInterval(timer);
      timer = undefined;
    };
    const online = () => {
      stopTimer();
      setOnline(true);
    };
    const check = () => {
      if (env.onLine() || onlineManager.isOnline()) online();
    };
    const offline = () => {
      setOnline(false);
      timer ??= env.setInterval(check, RECHECK_EVERY_MS);
    };
    const visible = () => {
      if (env.document.visibilityState === 'visible') check();
    };
    env.target.addEventListener('online', online);
    env.target.addEventListener('offline', offline);
    env.target.addEventListener('focus', check);
    env.document.addEventListener('visibilitychange', visible);
    if (env.onLine()) online();
    else offline();
    return () => {
      stopTimer();
      env.target.removeEventListener('online', online);
      env.target.removeEventListener('offline', offline);
      env.target.removeEventListener('focus', check);
      env.document.removeEventListener('visibilitychange', visible);
    };
  });
}

/** A request got an answer (an outbox send, the socket's hello): the network is there. */
export function markReachable(): void {
  onlineManager.setOnline(true);
}
