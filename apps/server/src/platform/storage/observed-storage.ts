import type { Counter } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import type { Storage } from './storage.ts';
import { StorageError, type StorageOperation } from './storage-errors.ts';

/** What the media store did last: `ok`, or how its last call failed (until one succeeds). */
export type StorageHealth = 'ok' | 'full' | 'unavailable';

/** The store's health as the process last saw it, for /readyz (one per process). */
export class StorageHealthState {
  private current: StorageHealth = 'ok';
  private since = 0;

  get health(): StorageHealth {
    return this.current;
  }

  /** `full since 2026-…` / `unavailable since …` / `ok`. */
  describe(): string {
    return this.current === 'ok' ? 'ok' : `${this.current} since ${new Date(this.since).toISOString()}`;
  }

  record(health: StorageHealth, now = Date.now()): void {
    if (health !== this.current) this.since = now;
    this.current = health;
  }
}

/**
 * The process's storage, counted and logged: every call by operation and outcome
 * (`kith_media_storage_operations_total`), each failure of the store logged once with its cause,
 * and the health /readyz reports. A failure is the store's only when the adapter says so (a
 * StorageError); a refused body (MEDIA_TOO_LARGE…) or a missing object is not. Recovery needs
 * nothing: the next call that succeeds turns the health back to `ok`.
 */
export function observedStorage(
  storage: Storage,
  deps: {
    operations: Counter<'operation' | 'outcome'>;
    health: StorageHealthState;
    logger: Logger;
  },
): Storage {
  const observe = async <T>(operation: StorageOperation, call: () => Promise<T>): Promise<T> => {
    try {
      const result = await call();
      deps.operations.inc({ operation, outcome: 'ok' });
      deps.health.record('ok');
      return result;
    } catch (err) {
      if (err instanceof StorageError) {
        deps.operations.inc({ operation, outcome: err.kind });
        deps.health.record(err.kind);
        deps.logger.warn({ component: 'storage', err, operation, kind: err.kind }, 'media storage failed');
      }
      throw err;
    }
  };
  const observed: Storage = {
    kind: storage.kind,
    put: (key, body, options) => observe('put', () => storage.put(key, body, options)),
    read: (key, range) => observe('read', () => storage.read(key, range)),
    head: (key) => observe('head', () => storage.head(key)),
    // the callback's own errors (an image refused) are not StorageErrors: they pass uncounted
    withLocalFile: (key, fn) => observe('read', () => storage.withLocalFile(key, fn)),
    delete: (keys) => observe('delete', () => storage.delete(keys)),
    close: () => storage.close(),
  };
  if (storage.presignPut) {
    const presignPut = storage.presignPut.bind(storage);
    observed.presignPut = (key, options) => presignPut(key, options);
  }
  if (storage.presignGet) {
    const presignGet = storage.presignGet.bind(storage);
    observed.presignGet = (key, options) => presignGet(key, options);
  }
  return observed;
}
