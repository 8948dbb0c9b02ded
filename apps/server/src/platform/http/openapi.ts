import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { errorCatalogue } from './schemas.ts';

export const API_VERSION = '1.0.0';

/** OpenAPI 3.1 generated from the route schemas; served at /openapi.json, Swagger UI at /docs. */
export async function registerOpenApi(app: FastifyInstance, { ui }: { ui: boolean }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kith API',
        version: API_VERSION,
        description: [
          'Kith: a real-time social platform. Every error answers `{ "error": { "code", "message", "details"?, "requestId" } }`.',
          '',
          '| code | status | meaning |',
          '|---|---|---|',
          ...errorCatalogue.map((e) => `| ${e.code} | ${e.status} | ${e.message} |`),
        ].join('\n'),
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    hideUntagged: false,
    transform: ({ schema, url }) => ({ schema: schema as never, url }),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (ui) {
    await app.register(async (scope) => {
      // Swagger UI needs scripts and styles of its own; relax the API's CSP for /docs only.
      scope.addHook('onSend', async (_req, reply) => {
        reply.header(
          'Content-Security-Policy',
          "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
        );
      });
      await scope.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });
    });
  }
}
