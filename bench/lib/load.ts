import autocannon from 'autocannon';
import { percentile, round } from './report.ts';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** One body per request, cycled through (e.g. logins for several accounts). */
  bodies?: string[];
  /** Requests per second over all connections; unset: as fast as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** Runs autocannon and keeps every latency, so any percentile can be read exactly. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const bodies = options.bodies;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    timeout: 30,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [
      {
        method: options.method ?? 'GET',
        headers: {
          ...(bodies ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(bodies
          ? {
              setupRequest: (request: Record<string, unknown>) => ({
                ...request,
                body: bodies[next++ % bodies.length],
              }),
            }
          : {}),
      },
    ],
  });
  return collect(instance);
}

/** Runs an autocannon instance to its end, keeping every latency (exact percentiles). */
export async function collect(instance: ReturnType<typeof autocannon>): Promise<LoadResult> {
  const latencies: number[] = [];
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
  });
  const result = await instance;
  return {
    requestsPerSecond: round(result.requests.total / result.duration),
    p50Ms: round(percentile(latencies, 50), 2),
    p95Ms: round(percentile(latencies, 95), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** A short run whose figures are thrown away: JIT, pools and caches warm up first. */
export async function warmUp(options: LoadOptions): Promise<void> {
  await load({ ...options, duration: Math.min(options.duration, 2) });
}
