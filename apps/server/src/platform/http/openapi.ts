import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { errorCatalogue } from './schemas.ts';

export const API_VERSION = '1.0.0';

const API_PREFIX = '/api/v1/';

/**
 * `POST /api/v1/auth/sessions/:id` → `postAuthSessionsById`: a stable default for routes that do
 * not name their operation, so every operation in the contract (and the typed client) has an id.
 */
export function defaultOperationId(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v\d+\//, '/')
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `by-${segment.slice(1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

type OpenApiObject = {
  tags?: { name: string }[];
  paths?: Record<string, Record<string, { tags?: string[]; responses?: Record<string, OpenApiResponse> }>>;
};
type OpenApiResponse = { description?: string; content?: Record<string, { schema?: { $ref?: string } }> };

const isErrorResponse = (response: OpenApiResponse) =>
  response.content?.['application/json']?.schema?.$ref === '#/components/schemas/ErrorResponse';

/** Lists the tags in use and describes each response by its status (not "Default Response"). */
function describeOperations(doc: OpenApiObject): OpenApiObject {
  const tags = new Set<string>();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(item)) {
      for (const tag of operation.tags ?? []) tags.add(tag);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (response.description === 'Default Response' || isErrorResponse(response))
          response.description = STATUS_CODES[status] ?? status;
      }
    }
  }
  return tags.size > 0 ? { ...doc, tags: [...tags].sort().map((name) => ({ name })) } : doc;
}

/** The first path segment under /api/v1 (`auth`, `me`, `admin`…) groups operations in the docs. */
function defaultTag(url: string): string | undefined {
  if (!url.startsWith(API_PREFIX)) return undefined;
  return url.slice(API_PREFIX.length).split('/')[0] || undefined;
}

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
    transformObject: (documentObject) =>
      'openapiObject' in documentObject
        ? describeOperations(documentObject.openapiObject as OpenApiObject)
        : documentObject.swaggerObject,
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? route.method[0]! : route.method;
      const tag = defaultTag(url);
      return {
        url,
        schema: {
          ...schema,
          operationId: schema.operationId ?? defaultOperationId(method, url),
          ...(schema.tags === undefined && tag ? { tags: [tag] } : {}),
        } as never,
      };
    },
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
