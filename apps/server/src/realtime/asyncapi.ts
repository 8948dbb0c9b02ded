import {
  ChatAttachment,
  ChatMessage,
  CLIENT_MESSAGES,
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  REALTIME_PROTOCOL,
  RealtimeNotification,
  RealtimeUserSummary,
  SERVER_EVENTS,
} from '@kith/contract';
import type { FastifyInstance } from 'fastify';

/**
 * The AsyncAPI 3.0 document of the realtime protocol, generated from the same TypeBox schemas the
 * gateway validates client frames with and the server's events are checked against
 * (packages/contract/src/realtime.ts). `npm run contract` commits it as packages/contract/asyncapi.json;
 * the server serves it at /asyncapi.json.
 */

export type AsyncApiDocument = Record<string, unknown>;

/** Schemas shared by several messages: written once under components.schemas and referenced. */
const SHARED = [
  ['ChatMessage', ChatMessage],
  ['MediaAttachment', ChatAttachment],
  ['Notification', RealtimeNotification],
  ['UserSummary', RealtimeUserSummary],
] as const;

/** A plain-JSON copy of `schema` with every shared schema inside it replaced by a $ref. */
function withRefs(schema: unknown, top?: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return schema;
  if (schema !== top) {
    const shared = SHARED.find(([, s]) => s === schema);
    if (shared) return { $ref: `#/components/schemas/${shared[0]}` };
  }
  if (Array.isArray(schema)) return schema.map((item) => withRefs(item));
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, withRefs(value)]));
}

const messageId = (type: string) => type.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase());

function messages(schemas: Record<string, unknown>, direction: 'server' | 'client') {
  return Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .map((type) => {
        const schema = schemas[type] as { description?: string };
        return [
          `${direction}.${messageId(type)}`,
          {
            name: type,
            title: type,
            summary:
              schema.description ??
              (direction === 'server' ? `The server's \`${type}\` event` : `The client's \`${type}\` frame`),
            contentType: 'application/json',
            payload: withRefs(schema),
          },
        ];
      }),
  );
}

export function buildAsyncApiDocument(): AsyncApiDocument {
  const serverMessages = messages(SERVER_EVENTS, 'server');
  const clientMessages = messages(CLIENT_MESSAGES, 'client');
  const refs = (all: Record<string, unknown>) =>
    Object.keys(all).map((id) => ({ $ref: `#/channels/realtime/messages/${id}` }));
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Kith realtime',
      version: REALTIME_PROTOCOL,
      description: [
        `The WebSocket protocol \`${REALTIME_PROTOCOL}\` (the subprotocol to ask for): JSON text frames, each an`,
        'object with a `type`. Get a single-use ticket with `POST /api/v1/realtime/ticket` (see',
        '/openapi.json) and open `/api/v1/realtime?ticket=…`. Send `resume` first, with the last seq held per',
        'conversation: nothing is missed or sent twice. Frames over',
        `${MAX_FRAME_BYTES} bytes close the socket with 1009.`,
        '',
        '| close code | meaning |',
        '|---|---|',
        ...Object.entries(CLOSE_CODES).map(([name, code]) => `| ${code} | ${name} |`),
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      kith: {
        host: '{host}',
        protocol: 'wss',
        pathname: '/api/v1/realtime',
        description: 'The same origin as the REST API (`ws` without TLS in development)',
        variables: { host: { default: 'localhost:8080', description: 'Where Kith is served' } },
        security: [{ $ref: '#/components/securitySchemes/ticket' }],
      },
    },
    channels: {
      realtime: {
        address: '/api/v1/realtime',
        title: 'One socket per browser',
        description: 'Every event for the signed-in user, and every frame the client sends.',
        messages: { ...clientMessages, ...serverMessages },
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                ticket: { type: 'string', maxLength: 128, description: 'From POST /api/v1/realtime/ticket' },
              },
              required: ['ticket'],
              additionalProperties: false,
            },
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations: {
      receiveClientFrames: {
        action: 'receive',
        title: 'Frames a client sends',
        summary: 'Checked against their schema; an invalid one is answered with an `error` event.',
        channel: { $ref: '#/channels/realtime' },
        messages: refs(clientMessages),
      },
      sendServerEvents: {
        action: 'send',
        title: 'Events the server sends',
        summary: 'Live and replayed events for the signed-in user.',
        channel: { $ref: '#/channels/realtime' },
        messages: refs(serverMessages),
      },
    },
    components: {
      schemas: Object.fromEntries(SHARED.map(([name, schema]) => [name, withRefs(schema, schema)])),
      securitySchemes: {
        ticket: {
          type: 'httpApiKey',
          name: 'ticket',
          in: 'query',
          description: 'A single-use ticket (30 s) from POST /api/v1/realtime/ticket',
        },
      },
    },
  };
}

/** The committed text of asyncapi.json: 2-space JSON, trailing newline. */
export function renderAsyncApi(doc: AsyncApiDocument = buildAsyncApiDocument()): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Serves the document at /asyncapi.json (next to /openapi.json). */
export function registerAsyncApi(app: FastifyInstance): void {
  const body = renderAsyncApi();
  app.get('/asyncapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(body),
  );
}
