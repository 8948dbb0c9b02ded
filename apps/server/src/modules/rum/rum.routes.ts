import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { RumReport } from './rum.schema.ts';
import type { RumService } from './rum.service.ts';

/** Reports per IP per minute: a page sends one or two (on hide), a busy shared NAT many more. */
export const RUM_LIMIT_PER_MINUTE = 120;

/** POST /api/v1/rum: Core Web Vitals from the web app (`navigator.sendBeacon`), no sign-in. */
export async function rumRoutes(app: FastifyInstance, { rum }: { rum: RumService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/rum',
    {
      schema: {
        tags: ['rum'],
        summary: 'Report Core Web Vitals measured in the browser (no personal data)',
        operationId: 'reportRum',
        body: RumReport,
        response: responses({ 204: Type.Null() }),
      },
      config: { rateLimit: [{ name: 'rum', limit: RUM_LIMIT_PER_MINUTE, windowMs: 60_000, by: 'ip' }] },
      bodyLimit: 4096,
    },
    async (request, reply) => {
      rum.record(request.body);
      return reply.code(204).send(null);
    },
  );
}
