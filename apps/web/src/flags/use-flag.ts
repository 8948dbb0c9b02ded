import { useSyncExternalStore } from 'react';

/**
 * Feature flags in the web app: `useFlag(key, default)`. The OpenFeature web SDK and the Kith
 * provider (./open-feature.ts) load on the first use, so the initial bundle carries only this file;
 * until they have read `GET /api/v1/flags`, and for a flag the server does not send, the default
 * is the answer.
 *
 * @example const live = useFlag('feed-new-posts-event', false);
 */

export type FlagValue = boolean | string | number;

/** What the lazily loaded part provides. */
export interface FlagRuntime {
  value<T extends FlagValue>(key: string, fallback: T): T;
  /** Called when the flags may have changed (loaded, re-read after sign-in/out, refreshed). */
  subscribe(listener: () => void): () => void;
  /** Re-reads the flags now (e.g. after the realtime socket reconnects). */
  refresh(): Promise<void>;
}

let runtime: FlagRuntime | undefined;
let loading: Promise<FlagRuntime> | undefined;
const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};

/** Loads the SDK and the flags once (again after a failed load); resolves with the runtime. */
export function loadFlags(start?: () => Promise<FlagRuntime>): Promise<FlagRuntime> {
  loading ??= (start ?? (async () => (await import('./open-feature.ts')).startFlags()))().then(
    (loaded) => {
      runtime = loaded;
      loaded.subscribe(notify);
      notify();
      return loaded;
    },
    (error: unknown) => {
      loading = undefined; // offline, or a new deploy: the next use tries again
      throw error;
    },
  );
  return loading;
}

/** Re-reads the flags if they are loaded (nothing to do before the first use). */
export async function refreshFlags(): Promise<void> {
  await runtime?.refresh();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!runtime) void loadFlags().catch(() => {});
  return () => listeners.delete(listener);
}

/** The flag's value for the signed-in user (`fallback` until loaded, or when the flag is unknown). */
export function useFlag(key: string, fallback: boolean): boolean;
export function useFlag(key: string, fallback: string): string;
export function useFlag(key: string, fallback: number): number;
export function useFlag(key: string, fallback: FlagValue): FlagValue {
  return useSyncExternalStore(
    subscribe,
    () => (runtime ? runtime.value(key, fallback) : fallback),
    () => fallback,
  );
}

/** Tests only: forgets the loaded runtime. */
export function resetFlagsForTests(): void {
  runtime = undefined;
  loading = undefined;
}
