import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket, { type WebsocketPluginOptions } from '@fastify/websocket';
import { MAX_FRAME_BYTES } from '@kith/contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { caller, requireAuth } from '../modules/auth/authenticate.ts';
import { AppError } from '../platform/errors.ts';
import { responses } from '../platform/http/schemas.ts';
import { type Gateway, GatewaySocket } from './gateway.ts';
import type { SessionsPort } from './ports.ts';
import type { Tickets } from './tickets.ts';

const Ticket = Type.Object(
  {
    ticket: Type.String({ description: 'Single use; pass as `?ticket=` on the WebSocket upgrade' }),
    expiresIn: Type.Integer({ description: 'Seconds the ticket stays valid' }),
  },
  { additionalProperties: false },
);

const UpgradeQuery = Type.Object({ ticket: Type.Optional(Type.String({ maxLength: 128 })) });

export interface RealtimeRoutesOptions {
  gateway: Gateway;
  tickets: Tickets;
  sessions: SessionsPort;
  corsOrigins: readonly string[];
}

/**
 * Whether a WebSocket upgrade may come from `origin`. Browsers always send Origin on an upgrade, so
 * a foreign page is refused unless its origin is in CORS_ORIGINS or it is this host's own origin;
 * a request without Origin comes from a non-browser client (mobile app, CLI, server), which cannot
 * be driven by a foreign page, and is allowed: the ticket authenticates it either way.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
) {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  if (!URL.canParse(origin) || !host) return false;
  return new URL(origin).host === host;
}

/**
 * Lets the upgrade's request and reply be collected once the socket is open: @fastify/websocket
 * leaves an `error` listener on the socket that holds the Fastify request and reply (with its child
 * logger, headers and the raw request), and the TCP socket still points at the ServerResponse the
 * upgrade was routed with. An idle connection would carry all of it for its whole life. The
 * gateway puts its own, shared, `error` listener in place.
 */
function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest) {
  socket.removeAllListeners('error');
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null };
  tcp._httpMessage?.detachSocket(tcp);
}

/** `POST /realtime/ticket` and the WebSocket at `GET /realtime?ticket=…` (authenticated before the upgrade). */
export async function realtimeRoutes(app: FastifyInstance, options: RealtimeRoutesOptions) {
  const { gateway, tickets, sessions, corsOrigins } = options;
  await app.register(websocket, {
    options: {
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
      // ws documents a subclass here; the plugin's types ask for ws's module export itself
      WebSocket: GatewaySocket as unknown as NonNullable<WebsocketPluginOptions['options']>['WebSocket'],
    },
    preClose: async () => {
      await gateway.close();
    },
    // ws closes the socket itself on a protocol error (1007, 1009…); nothing to add but a log line
    // (once the gateway holds the socket, its own listener logs them)
    errorHandler: (err, _socket, request) => {
      request.log.debug({ err }, 'websocket error');
    },
  });
  app.addHook('onClose', async () => gateway.close());
  const identities = new WeakMap<FastifyRequest, { userId: string; sessionId: string }>();
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/realtime/ticket',
    {
      schema: {
        tags: ['realtime'],
        summary: 'A single-use ticket (30 s) that opens the realtime WebSocket on any instance',
        operationId: 'createRealtimeTicket',
        security: [{ bearerAuth: [] }],
        response: responses({ 200: Ticket }, 401),
      },
      onRequest: requireAuth,
    },
    async (request) => {
      const { userId, sessionId } = caller(request);
      return tickets.issue(userId, sessionId);
    },
  );

  r.get(
    '/realtime',
    {
      websocket: true,
      schema: { querystring: UpgradeQuery },
      // before the upgrade, so a refusal is a plain HTTP answer (403 / 401) and no socket is opened
      preValidation: async (request) => {
        if (!originAllowed(request.headers.origin, request.headers.host, corsOrigins)) {
          throw new AppError('ORIGIN_NOT_ALLOWED');
        }
        const identity = await tickets.consume(request.query.ticket);
        if (!identity || !(await sessions.isActive(identity.sessionId, identity.userId))) {
          throw new AppError('INVALID_TICKET');
        }
        identities.set(request, identity);
      },
    },
    (socket, request) => {
      const identity = identities.get(request);
      identities.delete(request);
      const tcp = request.raw.socket;
      releaseUpgradeRequest(socket, request);
      if (!identity) return socket.close(1011, 'server error');
      gateway.accept(socket, tcp, identity.userId, identity.sessionId);
    },
  );
}
