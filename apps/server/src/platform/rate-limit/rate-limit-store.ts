export interface RateLimitResult {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** Fixed-window counters shared by all instances (Redis) or per instance (memory). */
export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<RateLimitResult>;
}
