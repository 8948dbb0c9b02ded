import { EnvSchema } from '../../config.ts';
import { CIRCUIT_STATE_VALUE, CircuitBreaker, type CircuitState } from '../../platform/db/circuit-breaker.ts';
import { classifyDbError, DatabaseTimeoutError } from '../../platform/db/db-errors.ts';
import { type AppError, retryLater } from '../../platform/errors.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';
import type { SendDraft, SendOutcome } from './chat.repository.ts';

/** The most sends one round trip carries. */
export const MAX_SEND_BATCH = 100;

/** Why a send was refused with a retryable error (the `reason` label of kith_chat_send_refused_total). */
export type RefusalReason = 'queue_full' | 'circuit_open' | 'unavailable' | 'timeout' | 'contention';

/**
 * One round trip: stores `drafts` in one statement and returns their outcomes in order. When
 * `signal` aborts (the deadline passed) it must let go of its connection at once.
 */
export type SendRoundTrip = (drafts: readonly SendDraft[], signal: AbortSignal) => Promise<SendOutcome[]>;

export interface SendBatcherOptions {
  /** Most sends per round trip. */
  maxBatch?: number;
  /** Most sends waiting (the batch in flight not counted); more are refused at once. CHAT_SEND_QUEUE_MAX. */
  queueMax?: number;
  /** A round trip not answered by then is aborted and its sends refused as retryable. CHAT_SEND_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Consecutive round trips failing for want of a database that open the circuit. CHAT_SEND_BREAKER_FAILURES. */
  breakerFailures?: number;
  /** How long the circuit stays open before one round trip probes. CHAT_SEND_BREAKER_RESET_MS. */
  breakerResetMs?: number;
  metrics?: Pick<Metrics, 'chatSend'>;
  logger?: Logger;
  /** Milliseconds now, for the breaker (tests). */
  now?: () => number;
}

const envDefault = (name: keyof typeof EnvSchema.properties) =>
  Number((EnvSchema.properties[name] as { default?: unknown }).default);

/** The configuration's defaults, for a batcher built without them. */
export const SEND_DEFAULTS = {
  queueMax: envDefault('CHAT_SEND_QUEUE_MAX'),
  timeoutMs: envDefault('CHAT_SEND_TIMEOUT_MS'),
  breakerFailures: envDefault('CHAT_SEND_BREAKER_FAILURES'),
  breakerResetMs: envDefault('CHAT_SEND_BREAKER_RESET_MS'),
};

/** Retry hint when nothing better is known (the circuit is not open). */
const RETRY_SOON_MS = 500;
const QUEUE_FULL_RETRY_MS = 1000;
const CONTENTION_RETRY_MS = 100;

interface Pending {
  draft: SendDraft;
  resolve: (outcome: SendOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for chat sends. A send that arrives while a round trip is in flight waits for it,
 * then goes with every other send that arrived meanwhile: one statement, one commit. At low load
 * each send goes alone and at once (nothing waits for a timer); under load a round trip carries
 * many messages, and their events reach each socket together (one write for several).
 *
 * A batch runs in conversation order (stable: each conversation keeps its arrival order), so that
 * batches of different instances take the conversation locks in the same order and never deadlock.
 *
 * Under database trouble a send is answered quickly, never queued without bound:
 * - at most `queueMax` sends wait; one more is refused at once (OVERLOADED, retryable);
 * - a round trip not answered within `timeoutMs` is aborted (its connection closed) and its sends
 *   refused (DATABASE_UNAVAILABLE, retryable). It may still have committed: the client resends with
 *   the same clientMessageId, which the database recognises, so each message is stored once;
 * - a batch that fails because one send is at fault (data or integrity error, a RAISE: see
 *   classifyDbError's `input`) is retried one send at a time, so only that send fails; a batch that
 *   fails for want of a database (connection, timeout, shutdown, too many connections) fails whole,
 *   at once, as retryable — splitting it would multiply the wait;
 * - `breakerFailures` such failures in a row open a circuit breaker: while it is open every send is
 *   refused at once, with the time until the next probe as `retryAfterMs`; then one batch probes.
 */
export class SendBatcher {
  private queue: Pending[] = [];
  private flying = false;
  private highWater = 0;
  private readonly breaker: CircuitBreaker;
  private readonly maxBatch: number;
  private readonly queueMax: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly run: SendRoundTrip,
    private readonly options: SendBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? MAX_SEND_BATCH;
    this.queueMax = options.queueMax ?? SEND_DEFAULTS.queueMax;
    this.timeoutMs = options.timeoutMs ?? SEND_DEFAULTS.timeoutMs;
    this.breaker = new CircuitBreaker({
      name: 'chat_send',
      failureThreshold: options.breakerFailures ?? SEND_DEFAULTS.breakerFailures,
      resetTimeoutMs: options.breakerResetMs ?? SEND_DEFAULTS.breakerResetMs,
      ...(options.now ? { now: options.now } : {}),
      onStateChange: (change) => this.circuitChanged(change.to, change.from, change.failures),
    });
    options.metrics?.chatSend.circuitState.set({ circuit: 'chat_send' }, CIRCUIT_STATE_VALUE.closed);
  }

  /** The circuit's state, sends waiting now, the most that ever waited at once, and the bound. */
  get stats(): { circuit: CircuitState; queued: number; highWater: number; queueMax: number } {
    return {
      circuit: this.breaker.state,
      queued: this.queue.length,
      highWater: this.highWater,
      queueMax: this.queueMax,
    };
  }

  /**
   * Stores the draft with the next round trip. Rejects with a retryable AppError when it cannot be
   * stored now (see the class comment), or with the statement's error when this send is at fault.
   */
  send(draft: SendDraft): Promise<SendOutcome> {
    if (this.breaker.state === 'open') return Promise.reject(this.refusal('circuit_open'));
    if (this.queue.length >= this.queueMax) return Promise.reject(this.refusal('queue_full'));
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, resolve, reject });
      this.queueChanged();
      if (!this.flying) void this.flush();
    });
  }

  /**
   * Runs another database call for the send path (a send with media, in its own transaction) under
   * the same circuit: refused at once while it is open; its failures for want of a database count
   * and come back as retryable.
   */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    if (!this.breaker.acquire()) throw this.refusal('circuit_open');
    try {
      const result = await work();
      this.breaker.success();
      return result;
    } catch (err) {
      const kind = classifyDbError(err);
      if (kind !== 'unavailable') {
        this.breaker.success();
        if (kind === 'contention') throw this.refusal('contention');
        throw err;
      }
      this.breaker.failure();
      this.options.logger?.warn({ err, component: 'chat-send' }, 'chat send failed: database unavailable');
      throw this.refusal('unavailable');
    }
  }

  private async flush(): Promise<void> {
    this.flying = true;
    try {
      while (this.queue.length > 0) {
        if (!this.breaker.acquire()) {
          this.refuse(this.queue.splice(0), 'circuit_open');
          break;
        }
        const batch = this.queue.splice(0, this.maxBatch);
        this.queueChanged();
        batch.sort((a, b) => compare(a.draft.conversationId, b.draft.conversationId));
        await this.runBatch(batch);
      }
    } finally {
      this.flying = false;
      this.queueChanged();
    }
  }

  /** One round trip for `batch` (the breaker has let it go); settles every send of it. */
  private async runBatch(batch: Pending[]): Promise<void> {
    let outcomes: SendOutcome[];
    try {
      outcomes = await this.roundTrip(batch.map((p) => p.draft));
    } catch (err) {
      const kind = classifyDbError(err);
      if (kind === 'unavailable') {
        this.breaker.failure();
        this.options.logger?.warn(
          { err, component: 'chat-send', sends: batch.length },
          'chat send round trip failed: database unavailable',
        );
        this.refuse(batch, err instanceof DatabaseTimeoutError ? 'timeout' : 'unavailable');
        return;
      }
      this.breaker.success(); // the database answered
      if (kind === 'input' && batch.length > 1) {
        await this.oneByOne(batch);
      } else if (kind === 'contention') {
        this.refuse(batch, 'contention');
      } else {
        for (const pending of batch) pending.reject(err);
      }
      return;
    }
    this.breaker.success();
    for (const [i, pending] of batch.entries()) pending.resolve(outcomes[i]!);
  }

  /** A batch one send spoiled: each send alone, so that only the one at fault fails. */
  private async oneByOne(batch: Pending[]): Promise<void> {
    for (const [i, pending] of batch.entries()) {
      // the database went away meanwhile: the rest are refused at once
      if (!this.breaker.acquire()) {
        this.refuse(batch.slice(i), 'circuit_open');
        return;
      }
      await this.runBatch([pending]);
    }
  }

  /** The round trip, given up on after `timeoutMs` (aborted, so that it lets go of its connection). */
  private roundTrip(drafts: readonly SendDraft[]): Promise<SendOutcome[]> {
    const controller = new AbortController();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new DatabaseTimeoutError('chat send round trip', this.timeoutMs);
        controller.abort(err);
        reject(err);
      }, this.timeoutMs);
      this.run(drafts, controller.signal).then(
        (outcomes) => {
          clearTimeout(timer);
          resolve(outcomes);
        },
        (err) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private refuse(pending: readonly Pending[], reason: RefusalReason) {
    if (pending.length === 0) return;
    const err = this.refusal(reason, pending.length);
    for (const p of pending) p.reject(err);
    this.queueChanged();
  }

  /** The retryable error for `count` sends refused for `reason` (counted here). */
  private refusal(reason: RefusalReason, count = 1): AppError {
    this.options.metrics?.chatSend.refused.inc({ reason }, count);
    if (reason === 'queue_full') {
      return retryLater(
        'OVERLOADED',
        QUEUE_FULL_RETRY_MS,
        'Too many messages are waiting to be stored; retry shortly.',
      );
    }
    if (reason === 'contention') {
      return retryLater(
        'DATABASE_UNAVAILABLE',
        CONTENTION_RETRY_MS,
        'The message could not be stored this time; retry.',
      );
    }
    return retryLater('DATABASE_UNAVAILABLE', this.breaker.retryAfterMs() || RETRY_SOON_MS);
  }

  private queueChanged() {
    const queued = this.queue.length;
    if (queued > this.highWater) {
      this.highWater = queued;
      this.options.metrics?.chatSend.queueHighWater.set(queued);
    }
    this.options.metrics?.chatSend.queueLength.set(queued);
  }

  private circuitChanged(to: CircuitState, from: CircuitState, failures: number) {
    this.options.metrics?.chatSend.circuitState.set({ circuit: 'chat_send' }, CIRCUIT_STATE_VALUE[to]);
    this.options.metrics?.chatSend.circuitTransitions.inc({ circuit: 'chat_send', to });
    const line = { component: 'chat-send', circuit: 'chat_send', from, to, consecutive_failures: failures };
    if (to === 'open') this.options.logger?.error(line, 'chat send circuit open: sends refused at once');
    else this.options.logger?.info(line, `chat send circuit ${to === 'closed' ? 'closed' : 'half-open'}`);
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
