import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one process; a registry per instance so tests can build several apps. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kith_', eventLoopMonitoringPrecision: 20 });
  const httpRequests = new Counter({
    name: 'kith_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'kith_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const dbQueries = new Counter({
    name: 'kith_db_queries_total',
    help: 'SQL statements by pool (primary or replica) and outcome',
    labelNames: ['pool', 'outcome'] as const,
    registers: [registry],
  });
  const dbQueryDuration = new Histogram({
    name: 'kith_db_query_duration_seconds',
    help: 'SQL statement latency by pool',
    labelNames: ['pool'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  const dbPoolConnections = new Gauge({
    name: 'kith_db_pool_connections',
    help: 'Database pool connections by pool and state (in_use, idle, waiting)',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
  });
  const redisErrors = new Counter({
    name: 'kith_redis_errors_total',
    help: 'Redis failures by adapter (cache, broker, rate_limit); each one fell back',
    labelNames: ['adapter'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'kith_rate_limited_total',
    help: 'Requests refused with 429 by policy',
    labelNames: ['policy'] as const,
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'kith_jobs_total',
    help: 'Jobs run by task and outcome',
    labelNames: ['task', 'outcome'] as const,
    registers: [registry],
  });
  const shed = new Counter({
    name: 'kith_load_shed_total',
    help: 'Requests answered 503 by the load shedder',
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    dbQueries,
    dbQueryDuration,
    dbPoolConnections,
    redisErrors,
    rateLimited,
    jobs,
    shed,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
