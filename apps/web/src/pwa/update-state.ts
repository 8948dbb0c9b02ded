type Apply = () => Promise<void>;

let apply: Apply | undefined;
const listeners = new Set<() => void>();

/** Whether a new version waits to take over, and how to switch to it (reloads the page). */
export const updateState = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  get: (): Apply | undefined => apply,
  available(next: Apply): void {
    apply = next;
    for (const l of listeners) l();
  },
  dismiss(): void {
    apply = undefined;
    for (const l of listeners) l();
  },
};
