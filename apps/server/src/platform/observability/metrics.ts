import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { scrapeCache } from './scrape-cache.ts';

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
  const mail = new Counter({
    name: 'kith_mail_total',
    help: 'Mail by kind and outcome (sent; failed: the job is retried)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const realtime = realtimeMetrics(registry);
  const chatSend = chatSendMetrics(registry);
  const mediaUploads = new Counter({
    name: 'kith_media_uploads_total',
    help: 'Media uploads by outcome (accepted, too_large, unsupported, quota, invalid, storage_full, storage_unavailable, error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const mediaProcessing = new Histogram({
    name: 'kith_media_processing_seconds',
    help: 'Image processing time by outcome (ready, failed)',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const mediaStorageOperations = new Counter({
    name: 'kith_media_storage_operations_total',
    help: 'Media storage calls (disk or S3) by operation (put, read, head, delete) and outcome (ok, full, unavailable)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  /**
   * Read at scrape time; the media module sets them. A failed or slow read (over scrapeCache's
   * deadline) leaves the last value: /metrics never waits on a stalled database.
   */
  const mediaSources: { queueDepth?: () => Promise<number>; bytesStored?: () => Promise<number> } = {};
  const mediaGauge = (name: string, help: string, source: keyof typeof mediaSources) => {
    const read = scrapeCache(async () => (await mediaSources[source]?.()) ?? null, 0);
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = await read().catch(() => null);
        if (value !== null) this.set(value);
      },
    });
  };
  mediaGauge('kith_media_queue_depth', 'Uploads waiting for or in processing', 'queueDepth');
  mediaGauge('kith_media_bytes_stored', 'Bytes of media in storage (originals and variants)', 'bytesStored');
  return {
    registry,
    realtime,
    chatSend,
    httpRequests,
    httpDuration,
    dbQueries,
    dbQueryDuration,
    dbPoolConnections,
    redisErrors,
    rateLimited,
    jobs,
    shed,
    mediaUploads,
    mediaProcessing,
    mediaSources,
    mediaStorageOperations,
    mail,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The realtime gateway's metrics (labels are message types and close codes: bounded sets). */
function realtimeMetrics(registry: Registry) {
  return {
    openSockets: new Gauge({
      name: 'kith_ws_open_sockets',
      help: 'Open WebSocket connections',
      registers: [registry],
    }),
    messagesIn: new Counter({
      name: 'kith_ws_messages_in_total',
      help: 'Client messages received by type (unknown types counted as "unknown")',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    messagesOut: new Counter({
      name: 'kith_ws_messages_out_total',
      help: 'Server messages sent by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'kith_ws_dropped_events_total',
      help: 'Droppable events (typing, presence) not sent because the socket send buffer was past the soft limit',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    closes: new Counter({
      name: 'kith_ws_closes_total',
      help: 'Closed WebSocket connections by close code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    sendBufferHighWater: new Gauge({
      name: 'kith_ws_send_buffer_high_water_bytes',
      help: 'Largest send buffer (unsent bytes) seen on any socket since start',
      registers: [registry],
    }),
    brokerErrors: new Counter({
      name: 'kith_ws_broker_errors_total',
      help: 'Broker subscribe/publish failures seen by the gateway',
      labelNames: ['operation'] as const,
      registers: [registry],
    }),
    replaySize: new Histogram({
      name: 'kith_ws_replay_messages',
      help: 'Messages replayed from Postgres per resume or catch-up',
      buckets: [0, 1, 5, 10, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    catchUpErrors: new Counter({
      name: 'kith_ws_catchup_errors_total',
      help: 'Catch-ups of a socket from Postgres (past a gap, or a resume) that failed; the next event retries',
      registers: [registry],
    }),
    degraded: new Gauge({
      name: 'kith_ws_degraded',
      help: '1 while live delivery is replaced by polling Postgres (broker unhealthy)',
      registers: [registry],
    }),
  };
}

/** Chat sends waiting for the database, refusals, and the send path's circuit breaker. */
function chatSendMetrics(registry: Registry) {
  return {
    queueLength: new Gauge({
      name: 'kith_chat_send_queue_length',
      help: 'Chat sends waiting for their database round trip (the batch in flight not counted)',
      registers: [registry],
    }),
    queueHighWater: new Gauge({
      name: 'kith_chat_send_queue_high_water',
      help: 'Most chat sends waiting at once since start (CHAT_SEND_QUEUE_MAX bounds it)',
      registers: [registry],
    }),
    refused: new Counter({
      name: 'kith_chat_send_refused_total',
      help: 'Chat sends refused with a retryable error, by reason (queue_full, circuit_open, unavailable, timeout, contention)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    circuitState: new Gauge({
      name: 'kith_db_circuit_state',
      help: 'Database circuit breaker state by circuit: 0 closed, 1 half-open (one probe), 2 open (calls refused at once)',
      labelNames: ['circuit'] as const,
      registers: [registry],
    }),
    circuitTransitions: new Counter({
      name: 'kith_db_circuit_transitions_total',
      help: 'Database circuit breaker state changes by circuit and new state',
      labelNames: ['circuit', 'to'] as const,
      registers: [registry],
    }),
  };
}
