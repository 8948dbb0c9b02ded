let restoring = typeof indexedDB !== 'undefined';
const listeners = new Set<() => void>();

/**
 * True while the signed-in user's saved cache is read back (queries wait for it, not the network).
 * It starts true where a cache can exist: the offline code (a lazy chunk) decides when it ends.
 */
export const cacheRestore = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  isRestoring: (): boolean => restoring,
};

export function setRestoring(value: boolean): void {
  if (restoring === value) return;
  restoring = value;
  for (const l of listeners) l();
}
