import { ApiError } from '../api/errors.ts';
import { classify } from './send.ts';
import type { OutboxStore } from './store.ts';
import type { AttemptOutcome, OutboxItem, OutboxRequest } from './types.ts';

/** What the tabs tell each other over the BroadcastChannel. */
type TabMessage =
  | { type: 'changed' }
  | { type: 'sending'; key: string | undefined }
  | { type: 'result'; key: string; item: OutboxItem; outcome: AttemptOutcome };

export interface OutboxEnv {
  store: OutboxStore;
  /** Sends one item (the API call); throws an ApiError, or anything else for "no answer". */
  send(item: OutboxItem, signal: AbortSignal): Promise<unknown>;
  locks?: { request<T>(name: string, cb: () => Promise<T>): Promise<T> } | undefined;
  channel?:
    | (Pick<BroadcastChannel, 'postMessage' | 'close'> & {
        onmessage: ((event: MessageEvent) => void) | null;
      })
    | undefined;
  online?: () => boolean;
  /** An attempt with no answer by then is abandoned and tried again (same key). */
  timeoutMs?: number;
  newKey?: () => string;
  now?: () => number;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface OutboxSnapshot {
  /** The signed-in user's items in queue order. */
  items: readonly OutboxItem[];
  /** The item on the wire right now (in any tab). */
  sending: string | undefined;
}

/** What `submit` tells the screen: sent now (with the server's answer), or kept for later. */
export type SubmitResult = { status: 'sent'; value: unknown } | { status: 'queued'; key: string };

export type ResultListener = (item: OutboxItem, outcome: AttemptOutcome) => void;

const LOCK = 'kith-outbox-drain';
const RETRY_BASE_MS = 1000;
const RETRY_CAP_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 15_000;

/** A copy of `request` with its text replaced (what an edit changes). */
export function withText(request: OutboxRequest, text: string): OutboxRequest {
  switch (request.kind) {
    case 'post':
    case 'comment':
      return { ...request, body: { ...request.body, text } } as OutboxRequest;
    case 'message':
      return { ...request, body: { ...request.body, body: text } };
    case 'reaction':
      return request;
  }
}

/** The text of a request, for showing and editing it. */
export function textOf(request: OutboxRequest): string | undefined {
  switch (request.kind) {
    case 'post':
      return request.body.text ?? '';
    case 'comment':
      return request.body.text;
    case 'message':
      return request.body.body ?? '';
    case 'reaction':
      return undefined;
  }
}

/**
 * The outbox: writes kept in IndexedDB until the server has them, sent in the order they were
 * made, each with the key it got when the person pressed send. One tab sends at a time (a Web
 * Lock); the others learn what happened over a BroadcastChannel. An attempt that gets no answer
 * (offline, a timeout, a 5xx) is tried again later with the same key, so the server stores it
 * once; a refusal (4xx) is kept with the server's message until the person edits or discards it.
 */
export class Outbox {
  private userId: string | undefined;
  private snapshot: OutboxSnapshot = { items: [], sending: undefined };
  private readonly listeners = new Set<() => void>();
  private readonly resultListeners = new Set<ResultListener>();
  private readonly waiters = new Map<string, (outcome: AttemptOutcome) => void>();
  private readonly held = new Set<string>();
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private retryTimer: unknown;
  private readonly env: Required<Omit<OutboxEnv, 'locks' | 'channel'>> & OutboxEnv;

  constructor(env: OutboxEnv) {
    this.env = {
      online: () => true,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      newKey: () => crypto.randomUUID(),
      now: () => Date.now(),
      random: Math.random,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...env,
    };
    if (this.env.channel) this.env.channel.onmessage = (e) => void this.onTabMessage(e.data as TabMessage);
  }

  /** For `useSyncExternalStore`. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): OutboxSnapshot => this.snapshot;

  /** Called for every item that reached its end in any tab (sent or refused), and on each retry. */
  onResult(listener: ResultListener): () => void {
    this.resultListeners.add(listener);
    return () => this.resultListeners.delete(listener);
  }

  /** Whose items are listed and sent (undefined: nobody's; theirs stay stored for their return). */
  async setUser(userId: string | undefined): Promise<void> {
    if (userId === this.userId) return;
    this.userId = userId;
    this.failures = 0;
    await this.refresh();
    if (userId) void this.drain();
  }

  /**
   * Keeps a write and sends it when it can. Resolves `sent` when it went through at once, `queued`
   * when it waits for the network; rejects with the server's ApiError when refused — then the item
   * is not kept when `inline` (the screen shows the error where the person wrote), else it stays
   * as failed.
   */
  async submit(
    request: OutboxRequest,
    options: { key?: string; inline?: boolean } = {},
  ): Promise<SubmitResult> {
    const userId = this.userId;
    if (!userId) throw new Error('outbox: nobody is signed in');
    const key = options.key ?? this.env.newKey();
    const outcome = new Promise<AttemptOutcome>((resolve) => this.waiters.set(key, resolve));
    await this.env.store.add({
      key,
      userId,
      request,
      createdAt: this.env.now(),
      state: 'pending',
      attempts: 0,
    });
    await this.changed();
    if (!this.env.online()) {
      this.waiters.delete(key);
      return { status: 'queued', key };
    }
    void this.drain();
    let timer: unknown;
    const first = await Promise.race([
      outcome,
      new Promise<undefined>((resolve) => {
        // another tab may hold the lock through a slow send of an older item
        timer = this.env.setTimer(() => resolve(undefined), this.env.timeoutMs + 1000);
      }),
    ]);
    this.env.clearTimer(timer);
    this.waiters.delete(key);
    if (first?.type === 'sent') return { status: 'sent', value: first.value };
    if (first?.type === 'refused') {
      if (options.inline) await this.discard(key);
      throw new ApiError(first.error);
    }
    return { status: 'queued', key };
  }

  /**
   * For a write this tab delivers by itself (a chat message over the socket): it is kept, so a
   * reload or a crash still sends it (with the same key), but this tab's passes leave it to its
   * sender. Call the returned function once the server has it, or has refused it.
   */
  async keep(request: OutboxRequest, key: string): Promise<() => Promise<void>> {
    const userId = this.userId;
    if (!userId) return async () => {};
    this.held.add(key);
    // sent again by its screen (a retry of a failed one): the same item
    if (!(await this.env.store.get(key))) {
      await this.env.store.add({
        key,
        userId,
        request,
        createdAt: this.env.now(),
        state: 'pending',
        attempts: 0,
      });
    }
    await this.changed();
    return async () => {
      this.held.delete(key);
      await this.discard(key);
    };
  }

  /** Whether this tab's own sender is delivering the item (not listed as waiting). */
  isHeld(key: string): boolean {
    return this.held.has(key);
  }

  /** Sends what is pending, one tab at a time; calls made meanwhile run one more pass. */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.withLock(() => this.pass());
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** The browser is back online: try at once, from the shortest delay. */
  online(): void {
    this.failures = 0;
    this.env.clearTimer(this.retryTimer);
    void this.drain();
  }

  async discard(key: string): Promise<void> {
    await this.env.store.remove(key);
    await this.changed();
  }

  /**
   * Sends a refused item again, with its text replaced when given. It gets a new key: nothing of
   * the refused attempt was stored, and the server answers a reused key with another body 422.
   */
  async resend(key: string, text?: string): Promise<void> {
    const item = await this.env.store.get(key);
    if (!item) return;
    const { error: _error, ...rest } = item;
    await this.env.store.put({
      ...rest,
      key: this.env.newKey(),
      request: text === undefined ? item.request : withText(item.request, text),
      state: 'pending',
      attempts: 0,
    });
    await this.changed();
    void this.drain();
  }

  dispose(): void {
    this.env.clearTimer(this.retryTimer);
    this.env.channel?.close();
  }

  private withLock(fn: () => Promise<void>): Promise<void> {
    return this.env.locks ? this.env.locks.request(LOCK, fn) : fn();
  }

  /** One pass under the lock: the oldest pending item first, until none is left or one must wait. */
  private async pass(): Promise<void> {
    const userId = this.userId;
    while (userId && userId === this.userId && this.env.online()) {
      const next = (await this.env.store.list(userId)).find(
        (i) => i.state === 'pending' && !this.held.has(i.key),
      );
      if (!next) {
        this.failures = 0;
        return;
      }
      this.setSending(next.key);
      const outcome = await this.attempt(next);
      this.setSending(undefined);
      // discarded in the meantime (another tab, or the person): nothing to write back
      const stored = await this.env.store.get(next.key);
      if (outcome.type === 'sent') {
        if (stored) await this.env.store.remove(next.key);
        this.failures = 0;
      } else if (stored) {
        await this.env.store.put({
          ...stored,
          attempts: stored.attempts + 1,
          ...(outcome.type === 'refused' ? { state: 'failed' as const, error: outcome.error } : {}),
        });
      }
      await this.changed();
      this.result(next, outcome);
      this.env.channel?.postMessage({
        type: 'result',
        key: next.key,
        item: next,
        outcome,
      } satisfies TabMessage);
      if (outcome.type === 'retry' || outcome.type === 'signedOut') {
        this.queuedBehind(outcome);
        // signed out: the session's return drains again
        if (outcome.type === 'retry') this.scheduleRetry(outcome.afterMs);
        return;
      }
    }
  }

  private async attempt(item: OutboxItem): Promise<AttemptOutcome> {
    const controller = new AbortController();
    const timer = this.env.setTimer(() => controller.abort(), this.env.timeoutMs);
    try {
      return { type: 'sent', value: await this.env.send(item, controller.signal) };
    } catch (error) {
      return classify(error);
    } finally {
      this.env.clearTimer(timer);
    }
  }

  /** Exponential backoff with full jitter; the server's Retry-After when it gave one. */
  private scheduleRetry(afterMs: number | undefined): void {
    const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** this.failures);
    this.failures += 1;
    const delay = afterMs ?? Math.round(this.env.random() * ceiling);
    this.env.clearTimer(this.retryTimer);
    this.retryTimer = this.env.setTimer(() => void this.drain(), Math.max(delay, 100));
  }

  private result(item: OutboxItem, outcome: AttemptOutcome): void {
    this.waiters.get(item.key)?.(outcome);
    for (const listener of this.resultListeners) listener(item, outcome);
  }

  /** The queue stopped: writes waiting for their first attempt are queued, not sent. */
  private queuedBehind(outcome: AttemptOutcome): void {
    for (const resolve of this.waiters.values()) resolve(outcome);
  }

  private setSending(key: string | undefined): void {
    this.snapshot = { ...this.snapshot, sending: key };
    this.notify();
    this.env.channel?.postMessage({ type: 'sending', key } satisfies TabMessage);
  }

  private async changed(): Promise<void> {
    await this.refresh();
    this.env.channel?.postMessage({ type: 'changed' } satisfies TabMessage);
  }

  private async refresh(): Promise<void> {
    const userId = this.userId;
    const items = userId ? await this.env.store.list(userId) : [];
    if (userId !== this.userId) return;
    this.snapshot = { ...this.snapshot, items };
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private async onTabMessage(message: TabMessage): Promise<void> {
    switch (message.type) {
      case 'changed':
        await this.refresh();
        return;
      case 'sending':
        this.snapshot = { ...this.snapshot, sending: message.key };
        this.notify();
        return;
      case 'result':
        await this.refresh();
        this.result(message.item, message.outcome);
        // the tab that had to stop may close before its timer fires: this one tries too
        if (message.outcome.type === 'retry') {
          this.queuedBehind(message.outcome);
          this.scheduleRetry(message.outcome.afterMs);
        }
        return;
    }
  }
}
