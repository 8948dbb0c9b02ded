import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { withTimeout } from '../db/database.ts';
import { metricsAuthorized } from '../observability/metrics-server.ts';
import type { Platform } from '../platform.ts';
import { errorBody } from './error-handler.ts';

const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')]),
    checks: Type.Record(Type.String({ maxLength: 32 }), Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const Live = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });

/**
 * Health and metrics answer even while load is shed: an orchestrator must not restart a busy
 * instance, and operators need the metrics most then. /readyz reports the overload itself (503,
 * `load: overloaded`), which takes the instance out of rotation until it recovers.
 */
const NEVER_SHED = { pressureHandler: () => undefined };

/** /livez, /readyz and (unless it has a port of its own) /metrics. */
export function registerHealth(app: FastifyInstance, platform: Platform): void {
  // Alive means the event loop answers: no dependency is called, so a database outage never
  // makes an orchestrator restart healthy processes.
  app.get('/livez', { schema: { hide: true, response: { 200: Live } }, config: NEVER_SHED }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/readyz',
    { schema: { hide: true, response: { 200: Health, 503: Health } }, config: NEVER_SHED },
    async (_request, reply) => {
      const checks: Record<string, string> = {};
      let dependenciesReady = true;
      const overloaded = app.isUnderPressure?.() ?? false;
      checks.load = overloaded ? 'overloaded' : 'ok';
      if (overloaded) dependenciesReady = false;
      if (platform.state.shuttingDown) {
        dependenciesReady = false;
      } else {
        const timeoutMs = platform.config.readyzTimeoutMs;
        try {
          await platform.db.ping(timeoutMs);
          checks.database = 'ok';
          const pending = await withTimeout(platform.pendingMigrations(), timeoutMs, 'migration check');
          checks.migrations = pending === 0 ? 'current' : `${pending} pending`;
          if (pending !== 0) dependenciesReady = false;
        } catch (err) {
          const reason = (err as Error).message.slice(0, 150);
          if (checks.database === undefined) checks.database = `unreachable: ${reason}`;
          else checks.migrations = `unknown: ${reason}`;
          dependenciesReady = false;
        }
      }
      // read again: shutdown may have begun while the checks ran
      const ready = dependenciesReady && !platform.state.shuttingDown;
      checks.shutdown = platform.state.shuttingDown ? 'shutting down' : 'no';
      const redis = platform.redisHealth();
      checks.redis = redis;
      // reported, never a reason to leave rotation: everything but media works without the store
      checks.media_storage = platform.storageHealth.describe();
      const degraded = redis === 'down' || platform.storageHealth.health !== 'ok';
      const status = !ready ? 'unavailable' : degraded ? 'degraded' : 'ok';
      return reply.code(ready ? 200 : 503).send({ status, checks });
    },
  );

  if (platform.config.metrics.port === undefined) {
    app.get('/metrics', { schema: { hide: true }, config: NEVER_SHED }, async (request, reply) => {
      if (!metricsAuthorized(request.headers.authorization, platform.config.metrics.token)) {
        return reply.code(401).send(errorBody('UNAUTHENTICATED', request.id));
      }
      reply.header('Content-Type', platform.metrics.registry.contentType);
      return platform.metrics.registry.metrics();
    });
  }
}
