/** How reconnects are spaced: exponential, capped, with full jitter. */
export interface BackoffOptions {
  /** The first delay's ceiling (attempt 0). */
  baseMs: number;
  /** No delay is longer than this. */
  capMs: number;
  /** [0, 1): Math.random in the browser, a fixed sequence in tests. */
  random: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000, random: Math.random };

/**
 * The delay before reconnect attempt `attempt` (0 for the first after a drop): uniform in
 * [0, min(cap, base·2^attempt)) — "full jitter", so that a thousand clients dropped by the same
 * restart do not come back in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(options.random() * ceiling);
}

/** The first attempt whose ceiling is the cap: from there on, delays are uniform in [0, cap). */
export function attemptsToCap(options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.max(0, Math.ceil(Math.log2(options.capMs / options.baseMs)));
}
