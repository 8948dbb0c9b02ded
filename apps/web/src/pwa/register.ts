/// <reference types="vite-plugin-pwa/vanillajs" />
import { registerSW } from 'virtual:pwa-register';
import { updateState } from './update-state.ts';

/** A tab left open for days still hears of a new deploy: look for one hourly and on return. */
const CHECK_EVERY_MS = 60 * 60 * 1000;

/** Registers /sw.js (scope /); a newer worker waiting to take over raises the update prompt. */
export function registerServiceWorker(): void {
  const update = registerSW({
    immediate: true,
    onNeedRefresh: () => updateState.available(() => update(true)),
    onRegisteredSW(_url, registration) {
      if (!registration) return;
      const check = () => {
        if (navigator.onLine && registration.installing === null) void registration.update().catch(() => {});
      };
      setInterval(check, CHECK_EVERY_MS);
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') check();
      });
    },
  });
}
