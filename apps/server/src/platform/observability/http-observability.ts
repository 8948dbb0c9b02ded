import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import '../http/auth-context.ts';
import type { Platform } from '../platform.ts';

/**
 * One structured log line and the Prometheus series for every request.
 *
 * The access line goes through a child of the platform logger without redaction: its fields are
 * fixed here and hold no secret (route pattern, never the URL; no headers, no body), and matching
 * the logger's wildcard redaction paths against every request's line was the largest cost Kith
 * added to a request. Every other line (request.log) keeps the redaction.
 */
export function registerObservability(
  app: FastifyInstance,
  { metrics, state, logger }: Pick<Platform, 'metrics' | 'state' | 'logger'>,
): void {
  app.decorateRequest('auth', null);
  const accessLog = logger.child({}, { redact: [] });
  // one counter child per (method, route, status): its label hash is computed once
  const counters = new Map<string, { inc(): void }>();
  // A request still in flight when shutdown began closes its connection when it is answered:
  // otherwise a kept-alive socket would hold the closing server open until SHUTDOWN_TIMEOUT_MS.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.shuttingDown) reply.header('Connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const latencyMs = reply.elapsedTime;
    const status = reply.statusCode;
    const key = `${request.method} ${status} ${route}`;
    let counter = counters.get(key);
    if (!counter) {
      counter = metrics.httpRequests.labels(request.method, route, String(status));
      counters.set(key, counter);
    }
    counter.inc();
    metrics.httpDuration.observe({ method: request.method, route }, latencyMs / 1000);
    const length = reply.getHeader('content-length');
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    accessLog[level](
      {
        request_id: request.id,
        ...(traceId ? { trace_id: traceId } : {}),
        user_id: request.auth?.userId,
        method: request.method,
        route,
        status,
        latency_ms: Math.round(latencyMs * 100) / 100,
        bytes: length === undefined ? undefined : Number(length),
        ip: request.ip,
      },
      'request completed',
    );
    done();
  });
}
