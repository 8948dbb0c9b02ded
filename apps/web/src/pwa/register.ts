import { Workbox } from 'workbox-window';
import { updateState } from './update-state.ts';

/** A tab left open for days still hears of a new deploy: look for one hourly and on return. */
const CHECK_EVERY_MS = 60 * 60 * 1000;
const WORKER = '/sw.js';

interface TrustedTypePolicyFactoryLike {
  createPolicy(
    name: string,
    rules: { createScriptURL(url: string): string },
  ): { createScriptURL(url: string): unknown };
}

/**
 * The worker's URL as the page's CSP wants it: `require-trusted-types-for 'script'` makes
 * `serviceWorker.register` a Trusted Types sink, so the URL comes from a policy that lets through
 * this one script and nothing else.
 */
function workerUrl(): string {
  const factory = (globalThis as { trustedTypes?: TrustedTypePolicyFactoryLike }).trustedTypes;
  if (!factory) return WORKER;
  const policy = factory.createPolicy('kith-service-worker', {
    createScriptURL: (url) => {
      if (url !== WORKER) throw new TypeError(`not the service worker: ${url}`);
      return url;
    },
  });
  return policy.createScriptURL(WORKER) as string;
}

/**
 * Registers /sw.js (scope /). A newer worker waiting to take over raises the update prompt; when
 * the person chooses to reload, it takes over and the page reloads into the new version.
 */
export function registerServiceWorker(): void {
  const wb = new Workbox(workerUrl(), { scope: '/' });
  wb.addEventListener('waiting', () => {
    updateState.available(async () => {
      wb.addEventListener('controlling', () => window.location.reload());
      wb.messageSkipWaiting();
    });
  });
  void wb
    .register()
    .then((registration) => {
      if (!registration) return;
      const check = () => {
        if (navigator.onLine && registration.installing === null) void registration.update().catch(() => {});
      };
      setInterval(check, CHECK_EVERY_MS);
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') check();
      });
    })
    .catch(() => {
      // no worker (private mode, a blocked scope): the app works online as before
    });
}
