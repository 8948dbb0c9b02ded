import { createRequire } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Config } from '../../config.ts';

export interface Tracing {
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry (OTLP/HTTP) with HTTP, Fastify and pg spans. `main.ts` calls it before it
 * loads any application module, and only when OTEL_EXPORTER_OTLP_ENDPOINT is set: the SDK is heavy
 * and stays off the default start path.
 */
export function startTracing(config: Config): Tracing {
  const endpoint = config.otel.endpoint!.replace(/\/+$/, '');
  const sdk = new NodeSDK({
    serviceName: config.otel.serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
    // only traces: metrics are Prometheus' job, logs go to stdout
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation(),
      new FastifyOtelInstrumentation({ registerOnInitialization: true }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // The instrumentations patch CommonJS modules as they are first required. Kith imports `pg` from
  // ESM, which would bypass that hook: load it through require now, so that the instance every later
  // import gets is the patched one.
  createRequire(import.meta.url)('pg');
  return { shutdown: () => sdk.shutdown() };
}
