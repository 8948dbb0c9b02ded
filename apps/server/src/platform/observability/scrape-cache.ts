/**
 * A read done at scrape time, shared by every metric that needs it and reused for `ttlMs`: several
 * gauges (and several Prometheus servers) scraping within the window cost one query.
 */
export function scrapeCache<T>(read: () => Promise<T>, ttlMs = 15_000): () => Promise<T> {
  let cached: { at: number; value: T } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.value;
    const value = await read();
    cached = { at: Date.now(), value };
    return value;
  };
}
