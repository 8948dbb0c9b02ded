import type { FastifyInstance } from 'fastify';
import { AuditService } from '../modules/audit/audit.service.ts';
import { authKit } from '../modules/auth/auth-kit.ts';
import { buildChatServices } from '../modules/chat/chat.wiring.ts';
import { buildSocialServices } from '../modules/social.ts';
import { UsersService } from '../modules/users/users.service.ts';
import type { Platform } from '../platform/platform.ts';
import { Gateway } from './gateway.ts';
import type { SessionsPort } from './ports.ts';
import { Presence } from './presence.ts';
import { realtimeRoutes } from './realtime.routes.ts';
import { TicketsRepository } from './tickets.repository.ts';
import { Tickets } from './tickets.ts';

/**
 * The realtime role: the ticket route and the WebSocket gateway, with the services they use built
 * here so that `--role realtime` runs without the API's routes.
 */
export async function registerRealtime(api: FastifyInstance, platform: Platform): Promise<Gateway> {
  const { config, db } = platform;
  const kit = await authKit(platform);
  const users = new UsersService(db.primary);
  const social = buildSocialServices(platform, users, new AuditService(db.primary));
  const { chat } = buildChatServices(platform, social.friends, users, social.media.media);
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
    chat,
    sessions,
    presence: new Presence(
      platform.cache,
      platform.broker,
      social.friends,
      config.realtime.presenceTtlSeconds,
      platform.logger,
    ),
    metrics: platform.metrics,
    logger: platform.logger,
    degraded: () => platform.redisHealth() === 'down',
    onDegradedChange: (listener) => platform.onRedisHealthChange((health) => listener(health === 'down')),
  });
  await gateway.start();
  await api.register(realtimeRoutes, {
    gateway,
    tickets: new Tickets(new TicketsRepository(db.primary), config.realtime.ticketTtlSeconds),
    sessions,
    corsOrigins: config.corsOrigins,
  });
  return gateway;
}
