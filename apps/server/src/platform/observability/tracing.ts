import { createRequire } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import type { Config } from '../../config.ts';
import { enableTracePropagation } from './trace-context.ts';

export interface Tracing {
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry (OTLP/HTTP, JSON) with HTTP, Fastify, pg and ioredis spans, and Kith's own
 * propagation through job payloads and broker messages (trace-context.ts). Sampling is parent-based
 * with a trace-id ratio at the root (OTEL_TRACES_SAMPLER_RATIO): a job, a broker delivery or a query
 * is kept exactly when the request that caused it is. `main.ts` calls it before it loads any
 * application module, and only when OTEL_EXPORTER_OTLP_ENDPOINT is set: the SDK is heavy and stays
 * off the default start path.
 */
export function startTracing(config: Config): Tracing {
  const endpoint = config.otel.endpoint!.replace(/\/+$/, '');
  const sdk = new NodeSDK({
    serviceName: config.otel.serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
    sampler: new tracing.ParentBasedSampler({
      root: new tracing.TraceIdRatioBasedSampler(config.otel.samplerRatio),
    }),
    // only traces: metrics are Prometheus' job, logs go to stdout
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation(),
      new FastifyOtelInstrumentation({ registerOnInitialization: true }),
      new PgInstrumentation({ requireParentSpan: true }),
      // commands outside any traced work (health checks, presence refresh, the subscriber) make no trace
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // The instrumentations patch CommonJS modules as they are first required. Kith imports `pg` and
  // `ioredis` from ESM, which would bypass that hook: load them through require now, so that the
  // instance every later import gets is the patched one.
  const require = createRequire(import.meta.url);
  require('pg');
  require('ioredis');
  enableTracePropagation();
  return {
    shutdown: async () => {
      enableTracePropagation(false);
      await sdk.shutdown();
    },
  };
}
