/** A cache of values that may vanish at any time; Postgres stays the truth. */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  /**
   * Like `get`, but a failure of the shared store throws instead of answering from this instance's
   * fallback: for a caller to whom "absent" and "unknown" mean different things (a read-your-writes
   * watermark written by another instance).
   */
  getShared<T>(key: string): Promise<T | undefined>;
  /** The stored JSON text itself, for callers that send it on as is (no parse, no re-serialize). */
  getJson(key: string): Promise<string | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(...keys: string[]): Promise<void>;
}
