/** The little of `navigator.locks` used here. */
export interface LocksLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<unknown>,
  ): Promise<unknown>;
}

export interface Leadership {
  /** Gives the lock up (or stops waiting for it); another tab waiting for it gets it at once. */
  release(): void;
}

/**
 * Leader election among this browser's tabs with a Web Lock: every tab asks for the same exclusive
 * lock; the one holding it is the leader until it releases it or closes (the browser releases the
 * lock of a closed tab at once and grants it to the next tab waiting). Without Web Locks every tab
 * leads (one socket per tab: correct, just not shared).
 */
export function electLeader(locks: LocksLike | undefined, name: string, onLead: () => void): Leadership {
  if (!locks) {
    onLead();
    return { release() {} };
  }
  const waiting = new AbortController();
  let resolveHeld: (() => void) | undefined;
  let released = false;
  locks
    .request(name, { signal: waiting.signal }, () => {
      if (released) return Promise.resolve();
      onLead();
      return new Promise<void>((resolve) => {
        resolveHeld = resolve;
      });
    })
    .catch(() => {
      // AbortError: released while still waiting
    });
  return {
    release() {
      released = true;
      if (resolveHeld) resolveHeld();
      else waiting.abort();
    },
  };
}
