import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the replica router knows about the work a read belongs to (an HTTP request): whose it is, and
 * whether it writes. Code outside a request (jobs, WebSocket handlers) runs without one: its
 * lag-tolerant reads only obey the lag bound.
 */
export interface ReadContext {
  /** The signed-in user, if any (read when a routed statement runs: authentication comes later). */
  userId(): string | undefined;
  /** The request writes (a mutating method): every read it makes goes to the primary. */
  wrote: boolean;
  /** The user's read-your-writes watermark, looked up once per request (see ReplicaRouter). */
  watermark?: Promise<bigint | undefined>;
}

const storage = new AsyncLocalStorage<ReadContext>();

/** Runs `fn` (and everything it starts) with `context` as the current read context. */
export function runWithReadContext<T>(context: ReadContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The read context of the running request, if any. */
export function currentReadContext(): ReadContext | undefined {
  return storage.getStore();
}
