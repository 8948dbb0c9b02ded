import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import '../http/auth-context.ts';
import type { Platform } from '../platform.ts';

/** One structured log line and the Prometheus series for every request. */
export function registerObservability(
  app: FastifyInstance,
  { metrics, state }: Pick<Platform, 'metrics' | 'state'>,
): void {
  app.decorateRequest('auth', null);
  // A request still in flight when shutdown began closes its connection when it is answered:
  // otherwise a kept-alive socket would hold the closing server open until SHUTDOWN_TIMEOUT_MS.
  app.addHook('onSend', async (_request, reply) => {
    if (state.shuttingDown) reply.header('Connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const latencyMs = reply.elapsedTime;
    const status = reply.statusCode;
    metrics.httpRequests.inc({ method: request.method, route, status: String(status) });
    metrics.httpDuration.observe({ method: request.method, route }, latencyMs / 1000);
    const length = reply.getHeader('content-length');
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    request.log[level](
      {
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
  });
}
