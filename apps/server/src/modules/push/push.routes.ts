import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import { PushKey, PushSubscriptionBody } from './push.schema.ts';
import type { PushService } from './push.service.ts';

const security = [{ bearerAuth: [] }];
const Empty = Type.Null({ description: 'No content' });
/** A device subscribes once, and again when its push service rotates the endpoint. */
const rateLimit = [{ name: 'push-subscription', limit: 60, windowMs: 3_600_000, by: 'user' as const }];

/** Web Push: the server's VAPID key, and the current session's subscription. */
export async function pushRoutes(app: FastifyInstance, { push }: { push: PushService }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['push'];

  r.get(
    '/push/key',
    {
      schema: {
        tags,
        summary: "The server's VAPID public key, to subscribe this device to Web Push",
        operationId: 'getPushKey',
        security,
        response: responses({ 200: PushKey }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => push.publicKey(caller(request)),
  );

  r.put(
    '/push/subscription',
    {
      schema: {
        tags,
        summary:
          "Subscribe this session's device to Web Push (replaces its earlier subscription); notifications are pushed while no socket of mine is live",
        operationId: 'putPushSubscription',
        security,
        body: PushSubscriptionBody,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request, reply) => {
      await push.subscribe(caller(request), request.body);
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/push/subscription',
    {
      schema: {
        tags,
        summary: "Unsubscribe this session's device from Web Push",
        operationId: 'deletePushSubscription',
        security,
        response: responses({ 204: Empty }, 401),
      },
      onRequest: requireAuth,
      config: { rateLimit },
    },
    async (request, reply) => {
      await push.unsubscribe(caller(request));
      return reply.code(204).send(null);
    },
  );
}
