export interface RateLimitResult {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** Fixed-window counters shared by all instances (Redis) or per instance (memory). */
export interface RateLimitStore {
  /** Counts a hit; the in-process store answers at once, without a promise (the hot path). */
  hit(key: string, windowMs: number): RateLimitResult | Promise<RateLimitResult>;
}
