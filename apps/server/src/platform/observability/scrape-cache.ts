/**
 * A read done at scrape time, shared by every metric that needs it and reused for `ttlMs`: several
 * gauges (and several Prometheus servers) scraping within the window cost one query.
 *
 * A scrape never waits longer than `deadlineMs` for it: when the database is slow or its pool is
 * exhausted (a slow-query storm), `/metrics` answers with the last value read (or without the
 * series, when there is none yet) instead of stalling with the database — the moment an operator
 * needs the other metrics most. The late read goes on alone (one at a time, never piled up) and
 * fills the cache for the next scrape.
 */
export function scrapeCache<T>(read: () => Promise<T>, ttlMs = 15_000, deadlineMs = 1_000): () => Promise<T> {
  let cached: { at: number; value: T } | undefined;
  let inFlight: Promise<T> | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.value;
    inFlight ??= read()
      .then((value) => {
        cached = { at: Date.now(), value };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`scrape-time read took over ${deadlineMs} ms`)), deadlineMs);
      timer.unref();
    });
    try {
      return await Promise.race([inFlight, late]);
    } catch (err) {
      if (cached) return cached.value;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}
