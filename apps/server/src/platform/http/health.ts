import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Platform } from '../platform.ts';
import { errorBody } from './error-handler.ts';

const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')]),
    checks: Type.Record(Type.String({ maxLength: 32 }), Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** /livez, /readyz and (unless it has a port of its own) /metrics. */
export function registerHealth(app: FastifyInstance, platform: Platform): void {
  app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { hide: true, response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      const checks: Record<string, string> = {};
      let ready = !platform.state.shuttingDown;
      checks.shutdown = platform.state.shuttingDown ? 'shutting down' : 'no';
      try {
        await platform.db.ping(platform.config.readyzTimeoutMs);
        checks.database = 'ok';
        const pending = await platform.pendingMigrations();
        checks.migrations = pending === 0 ? 'current' : `${pending} pending`;
        if (pending !== 0) ready = false;
      } catch (err) {
        checks.database = `unreachable: ${(err as Error).message.slice(0, 150)}`;
        ready = false;
      }
      const redis = platform.redisHealth();
      checks.redis = redis;
      const status = !ready ? 'unavailable' : redis === 'down' ? 'degraded' : 'ok';
      return reply.code(ready ? 200 : 503).send({ status, checks });
    },
  );

  if (platform.config.metrics.port === undefined) {
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const token = platform.config.metrics.token;
      if (token && request.headers.authorization !== `Bearer ${token}`) {
        return reply.code(401).send(errorBody('UNAUTHENTICATED', request.id));
      }
      reply.header('Content-Type', platform.metrics.registry.contentType);
      return platform.metrics.registry.metrics();
    });
  }
}
