import { Agent, request as httpsRequest } from 'node:https';
import { loadavg } from 'node:os';

/**
 * A small open-loop load driver. Arrivals come at a fixed rate whatever the server does, as real
 * users do: a slow answer does not hold the next arrival back (a closed loop — autocannon's
 * connections each waiting for their answer — sends less exactly when the server struggles, and so
 * hides the queueing). Latency is measured from each arrival's *scheduled* time, so a late driver
 * or a queue anywhere counts against the server rather than vanishing (no coordinated omission).
 * Bounded: at most `rate × duration` arrivals (and `maxArrivals`), each given up after `timeoutMs`,
 * at most `maxInFlight` at once (an arrival finding that many waiting counts as an error).
 */
export interface OpenLoopOptions {
  name: string;
  ratePerSecond: number;
  durationSeconds: number;
  maxArrivals?: number;
  /** An arrival not done this long after its scheduled time fails (its work is aborted). */
  timeoutMs?: number;
  maxInFlight?: number;
  /** The work of arrival `i`; throwing (or rejecting) makes it an error. */
  work: (i: number, signal: AbortSignal) => Promise<void>;
}

export interface OpenLoopResult {
  name: string;
  ratePerSecond: number;
  arrivals: number;
  ok: number;
  errors: number;
  errorRate: number;
  /** The first few distinct error messages, with counts. */
  errorKinds: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The 1, 5 and 15 minute load averages when the scenario ended. */
  loadAverage: [number, number, number];
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxInFlight = options.maxInFlight ?? 1_000;
  const total = Math.min(
    Math.floor(options.ratePerSecond * options.durationSeconds),
    options.maxArrivals ?? Number.POSITIVE_INFINITY,
  );
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let inFlight = 0;
  const running: Promise<void>[] = [];
  const fail = (message: string) => {
    errors++;
    const kind = message.slice(0, 120);
    if (kind in errorKinds || Object.keys(errorKinds).length < 8)
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / options.ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (inFlight >= maxInFlight) {
      fail(`dropped: ${maxInFlight} arrivals already waiting`);
      continue;
    }
    inFlight++;
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer within ${timeoutMs} ms`)),
      Math.max(0, due + timeoutMs - performance.now()),
    );
    running.push(
      (async () => {
        try {
          await Promise.race([
            options.work(i, abort.signal),
            new Promise<never>((_, reject) =>
              abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }),
            ),
          ]);
          latencies.push(performance.now() - due);
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
        } finally {
          clearTimeout(timer);
          inFlight--;
        }
      })(),
    );
  }
  await Promise.all(running);
  const [l1, l5, l15] = loadavg() as [number, number, number];
  return {
    name: options.name,
    ratePerSecond: options.ratePerSecond,
    arrivals: total,
    ok: latencies.length,
    errors,
    errorRate: total === 0 ? 0 : errors / total,
    errorKinds,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.length ? Math.max(...latencies) : Number.NaN),
    loadAverage: [round(l1, 2), round(l5, 2), round(l15, 2)],
  };
}

export interface HttpAnswer {
  status: number;
  body: string;
  /** The Retry-After header, when the answer has one (a 503/429 refusal). */
  retryAfter?: string;
}

/**
 * A keep-alive HTTPS client for one origin with the cluster's CA (no global state, no dependency):
 * `call('POST', '/api/v1/posts', token, body)`. Answers of any status resolve; callers decide.
 */
export function httpsClient(origin: string, ca: string | Buffer, maxSockets = 256, servername = 'localhost') {
  const base = new URL(origin);
  // connect to the address, present the name the certificate carries (nginx refuses a TLS
  // handshake without a known server name)
  const agent = new Agent({ keepAlive: true, maxSockets, ca, servername });
  const call = (
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpsRequest(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          servername,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          const retryAfter = res.headers['retry-after'];
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              ...(retryAfter ? { retryAfter } : {}),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { call, close: () => agent.destroy() };
}

/** Throws unless the answer's status is `expected` (the error names the status and body). */
export function expectStatus(answer: HttpAnswer, expected: number, what: string): HttpAnswer {
  if (answer.status !== expected) throw new Error(`${what}: ${answer.status} ${answer.body.slice(0, 80)}`);
  return answer;
}
