import compress from '@fastify/compress';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { registerAuthentication } from './modules/auth/authenticate.ts';
import { registerModules } from './modules/index.ts';
import { registerWriteGuard } from './modules/reports/write-guard.ts';
import { registerReadRouting } from './platform/db/read-routing-hooks.ts';
import { AppError } from './platform/errors.ts';
import { createClientErrorHandler } from './platform/http/client-error.ts';
import { corsOptions, edgeHeaders, helmetOptions } from './platform/http/edge-headers.ts';
import { frameworkErrorHandler, registerErrorHandling } from './platform/http/error-handler.ts';
import { registerHealth } from './platform/http/health.ts';
import { registerJsonParser } from './platform/http/json-body.ts';
import { LingeringClose, registerLingeringClose } from './platform/http/lingering-close.ts';
import { registerOpenApi } from './platform/http/openapi.ts';
import { requestIdFor } from './platform/http/request-id.ts';
import { ErrorResponse } from './platform/http/schemas.ts';
import { registerWebApp } from './platform/http/web-app.ts';
import { registerIdempotency } from './platform/idempotency/idempotency-hooks.ts';
import { registerObservability } from './platform/observability/http-observability.ts';
import type { Platform } from './platform/platform.ts';
import { registerRateLimits } from './platform/rate-limit/rate-limit-hooks.ts';
import { registerAsyncApi } from './realtime/asyncapi.ts';
import { registerRealtime } from './realtime/realtime.wiring.ts';
import { buildServices, type Services } from './services.ts';

registerAjvFormats();

export interface BuildOptions {
  /** Serve Swagger UI at /docs (the JSON document is always at /openapi.json). */
  docs?: boolean;
  /**
   * The process's services (`buildServices`), shared with the job runner; when absent, the app
   * builds its own (once: the REST routes and the gateway still share them).
   */
  services?: Services;
  /** The built web app served at `/` by the api role (default: apps/web/dist); false: none. */
  webRoot?: string | false;
}

/**
 * Builds the HTTP application on a ready platform. Tests call this and use `app.inject()`;
 * `server.ts` listens on it.
 */
export async function buildApp(platform: Platform, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = platform;
  const services = options.services ?? (await buildServices(platform));
  // Answers written outside the hooks (parser and router errors) get the same headers as the rest.
  const edge = edgeHeaders(config);
  const lingering = new LingeringClose({
    timeoutMs: config.http.lingerTimeoutMs,
    maxBytes: config.http.lingerMaxBytes,
  });
  const { headersTimeoutMs, requestTimeoutMs } = config.http;
  const app = Fastify({
    loggerInstance: platform.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: requestIdFor,
    requestIdHeader: false,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    // the closing server's 503 is answered by a hook below, with Kith's body and headers
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Slow clients: headers within HTTP_HEADERS_TIMEOUT_MS, the whole request within
    // HTTP_REQUEST_TIMEOUT_MS (Node checks both every connectionsCheckingInterval, so that is a
    // fraction of the headers timeout), no byte moving for HTTP_IDLE_TIMEOUT_MS; kept-alive idle
    // connections live longer than the proxy's own idle timeout (see config.ts).
    http: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    connectionTimeout: config.http.idleTimeoutMs,
    clientErrorHandler: createClientErrorHandler({
      edgeHeaders: edge,
      lingering,
      logger: platform.logger,
      metrics: platform.metrics,
    }),
    frameworkErrors: frameworkErrorHandler(edge),
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
  }).setValidatorCompiler(TypeBoxValidatorCompiler);

  app.addSchema(ErrorResponse);
  // the flag store's subscription and refresh timer end with the app (before the platform closes)
  app.addHook('onClose', () => services.flags.stop());
  registerErrorHandling(app, platform.reportError);
  registerJsonParser(app, config.jsonMaxDepth);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  // Security headers and CORS come before every hook that may answer early (load shedding,
  // authentication, rate limits, idempotency), so that those answers carry them too: a web app
  // on another allowed origin must be able to read its 401 to refresh its token.
  await app.register(helmet, helmetOptions(config));
  await app.register(cors, corsOptions(config));
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (closing) {
      reply.header('Connection', 'close');
      throw new AppError('UNAVAILABLE', 'The server is shutting down; retry.', undefined, {
        'Retry-After': '1',
      });
    }
    // NUL cannot be stored by Postgres; refuse it in the URL as the body parser does in JSON.
    if (request.url.includes('%00') || request.url.includes('\u0000')) throw new AppError('NUL_CHARACTER');
  });
  registerLingeringClose(app, lingering);

  registerObservability(app, platform);
  // lag-tolerant reads: read-your-writes per request and per user (platform/db/replica-router.ts)
  registerReadRouting(app, platform.db);
  // Shed load before any other work (token checks, rate-limit counters, body parsing).
  await app.register(underPressure, {
    maxEventLoopDelay: config.pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.pressure.maxHeapUsedBytes,
    maxEventLoopUtilization: config.pressure.maxEventLoopUtilization,
    retryAfter: 10,
    pressureHandler: async (request, _reply, type, value) => {
      platform.metrics.shed.inc();
      request.log.warn({ pressure: type, value }, 'shedding load');
      throw new AppError('OVERLOADED', undefined, undefined, { 'Retry-After': '10' });
    },
  });
  await registerAuthentication(app, services.kit);
  // a suspended account reads but does not write (modules/reports/write-guard.ts)
  registerWriteGuard(app, services.reports.guard);
  registerRateLimits(app, platform);
  registerIdempotency(app, platform);

  await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip'] });

  await registerOpenApi(app, { ui: options.docs ?? true });
  registerAsyncApi(app);
  registerHealth(app, platform);

  // `--role realtime` alone serves the WebSocket gateway (and its ticket route) without the API;
  // the api and worker roles open no sockets.
  const { roles } = config;
  await app.register(
    async (api) => {
      if (roles.has('api') || !roles.has('realtime')) await registerModules(api, services, config);
      if (roles.has('realtime')) await registerRealtime(api, platform, services);
    },
    { prefix: '/api/v1' },
  );
  if (options.webRoot !== false && (roles.has('api') || !roles.has('realtime'))) {
    await registerWebApp(app, { root: options.webRoot, config, logger: platform.logger });
  }

  return app;
}
