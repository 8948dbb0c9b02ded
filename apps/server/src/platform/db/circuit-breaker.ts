/** `closed`: calls go; `open`: calls are refused at once; `half_open`: one call (the probe) may go. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** The state as a number, for a gauge: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

export interface CircuitBreakerOptions {
  /** Names the guarded dependency in logs and metrics (e.g. `chat_send`). */
  name: string;
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe may go. */
  resetTimeoutMs: number;
  /** Milliseconds now (tests pass a clock of their own). */
  now?: () => number;
  /** Called on every change of state. */
  onStateChange?: (change: { name: string; from: CircuitState; to: CircuitState; failures: number }) => void;
}

/**
 * A circuit breaker for a dependency that fails by not answering (a database): after
 * `failureThreshold` consecutive failures the circuit opens and callers are refused at once instead
 * of each waiting for a timeout; after `resetTimeoutMs` one probe goes (half-open): its success
 * closes the circuit, its failure opens it again for another `resetTimeoutMs`.
 *
 * Only failures that say the dependency is unreachable should be reported as failures; a call the
 * dependency answered (even with an error of the caller's making) is a success. No timers: the
 * open → half-open step happens when the state is next read.
 *
 * @example
 * if (!breaker.acquire()) throw retryLater('DATABASE_UNAVAILABLE', breaker.retryAfterMs());
 * try { await call(); breaker.success(); } catch (err) { if (unreachable(err)) breaker.failure(); else breaker.success(); throw err; }
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!(options.failureThreshold >= 1)) throw new RangeError('failureThreshold must be at least 1');
    if (!(options.resetTimeoutMs >= 0)) throw new RangeError('resetTimeoutMs must not be negative');
    this.now = options.now ?? Date.now;
  }

  get name(): string {
    return this.options.name;
  }

  /** The current state (an open circuit whose reset timeout has passed reads as half-open). */
  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.resetTimeoutMs) {
      this.move('half_open');
    }
    return this.current;
  }

  /** Consecutive failures so far. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /**
   * Whether a call may go now. Closed: yes. Open: no. Half-open: yes for one call (the probe) until
   * it reports success or failure, no for the others meanwhile.
   */
  acquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** Whether a call would be let through now, without taking the probe. */
  get allowsCalls(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half_open' && !this.probing);
  }

  /** The dependency answered: the count starts again, and an open or half-open circuit closes. */
  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.current !== 'closed') this.move('closed');
  }

  /** The dependency did not answer: a failed probe, or the threshold reached, opens the circuit. */
  failure(): void {
    this.failures++;
    const wasProbe = this.probing;
    this.probing = false;
    if (
      this.current === 'half_open' ||
      wasProbe ||
      (this.current === 'closed' && this.failures >= this.options.failureThreshold)
    ) {
      this.openedAt = this.now();
      this.move('open');
    }
  }

  /** How long until a probe may go: 0 unless open. */
  retryAfterMs(): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, this.openedAt + this.options.resetTimeoutMs - this.now());
  }

  private move(to: CircuitState) {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.options.onStateChange?.({ name: this.options.name, from, to, failures: this.failures });
  }
}
