import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { caller, requireRole } from '../auth/authenticate.ts';
import { ClientFlags, Flag, FlagBody, FlagKeyParams, FlagList, presentFlag } from './flags.schema.ts';
import type { FlagsService } from './flags.service.ts';

const authenticated = [{ bearerAuth: [] }];

/** GET /api/v1/flags for clients; /api/v1/admin/flags to manage them (admin). */
export async function flagsRoutes(app: FastifyInstance, { flags }: { flags: FlagsService }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/flags',
    {
      schema: {
        tags: ['flags'],
        summary: 'Client-visible feature flags, evaluated for the caller (signed in or not)',
        operationId: 'getClientFlags',
        response: responses({ 200: ClientFlags }),
      },
    },
    async (request, reply) => {
      reply.header('Cache-Control', 'private, no-cache');
      const who = request.auth ? { targetingKey: request.auth.userId, role: request.auth.role } : {};
      return { flags: flags.clientFlags(who) };
    },
  );

  r.get(
    '/admin/flags',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every feature flag (admin)',
        operationId: 'listFlags',
        security: authenticated,
        response: responses({ 200: FlagList }, 401, 403),
      },
      onRequest: requireRole('admin'),
    },
    async () => ({ items: (await flags.list()).map(presentFlag) }),
  );

  r.put(
    '/admin/flags/:key',
    {
      schema: {
        tags: ['admin'],
        summary:
          'Create or change a feature flag; every instance applies it within a second (admin, audited)',
        operationId: 'putFlag',
        security: authenticated,
        params: FlagKeyParams,
        body: FlagBody,
        response: responses({ 200: Flag }, 400, 401, 403),
      },
      onRequest: requireRole('admin'),
    },
    async (request) =>
      presentFlag(
        await flags.put(caller(request).userId, request.params.key, request.body, requestMeta(request)),
      ),
  );

  r.delete(
    '/admin/flags/:key',
    {
      schema: {
        tags: ['admin'],
        summary: 'Delete a feature flag (admin, audited)',
        operationId: 'deleteFlag',
        security: authenticated,
        params: FlagKeyParams,
        response: responses({ 204: Type.Null() }, 401, 403, 404),
      },
      onRequest: requireRole('admin'),
    },
    async (request, reply) => {
      await flags.remove(caller(request).userId, request.params.key, requestMeta(request));
      return reply.code(204).send(null);
    },
  );
}
