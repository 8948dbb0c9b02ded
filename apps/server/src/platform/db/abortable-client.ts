import type pg from 'pg';
import { classifyDbError } from './db-errors.ts';

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Runs `work` on a connection of its own from `pool` and gives up as soon as `signal` aborts. A
 * connection still being made is handed back when it arrives; a connection running a statement is
 * destroyed (its socket closed), so that a statement the server never answers — a hung, paused or
 * partitioned server, where no statement_timeout can fire — does not hold a pool slot, and the
 * caller's promise settles at once. The statement may still have been executed (even committed) by
 * the server: callers must make a retry safe.
 */
export async function withAbortableClient<T>(
  pool: pg.Pool,
  signal: AbortSignal,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const connecting = pool.connect();
  let client: pg.PoolClient;
  try {
    client = await untilAborted(connecting, signal);
  } catch (err) {
    if (signal.aborted) {
      connecting.then(
        (late) => late.release(),
        () => {},
      );
    }
    throw err;
  }
  let released = false;
  const release = (err?: Error) => {
    if (released) return;
    released = true;
    client.release(err);
  };
  const destroy = () =>
    release(signal.reason instanceof Error ? signal.reason : new Error('aborted by the caller'));
  signal.addEventListener('abort', destroy, { once: true });
  try {
    return await untilAborted(work(client), signal);
  } catch (err) {
    // a connection that failed is not handed to the next caller
    if (classifyDbError(err) === 'unavailable') release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    signal.removeEventListener('abort', destroy);
    release();
  }
}
