import type { FastifyInstance } from 'fastify';
import { guardChatSends } from '../modules/reports/write-guard.ts';
import type { Platform } from '../platform/platform.ts';
import type { Services } from '../services.ts';
import { Gateway } from './gateway.ts';
import type { SessionsPort } from './ports.ts';
import { realtimeRoutes } from './realtime.routes.ts';

/**
 * The realtime entry: the ticket route and the WebSocket gateway, on the process's services (the
 * same ChatService the REST routes use). `--role realtime` registers this without the API's routes.
 */
export async function registerRealtime(
  api: FastifyInstance,
  platform: Platform,
  services: Services,
): Promise<Gateway> {
  const { config } = platform;
  const { kit } = services;
  const sessions: SessionsPort = {
    async isActive(sessionId, userId) {
      const state = await kit.sessions.get(sessionId);
      return (
        !!state && state.userId === userId && !state.revoked && !state.banned && state.expiresAt > Date.now()
      );
    },
  };
  const gateway = new Gateway({
    config: config.realtime,
    broker: platform.broker,
    // a suspended account's sends are refused like its REST writes
    chat: guardChatSends(services.chat.chat, services.reports.guard),
    sessions,
    presence: services.realtime.presence,
    metrics: platform.metrics,
    logger: platform.logger,
    degraded: () => platform.redisHealth() === 'down',
    onDegradedChange: (listener) => platform.onRedisHealthChange((health) => listener(health === 'down')),
  });
  await gateway.start();
  await api.register(realtimeRoutes, {
    gateway,
    tickets: services.realtime.tickets,
    sessions,
    corsOrigins: config.corsOrigins,
  });
  return gateway;
}
