import compress from '@fastify/compress';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import { registerAjvFormats, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { registerAuthentication } from './modules/auth/authenticate.ts';
import { registerModules } from './modules/index.ts';
import { errorBody, registerErrorHandling } from './platform/http/error-handler.ts';
import { registerHealth } from './platform/http/health.ts';
import { registerJsonParser } from './platform/http/json-body.ts';
import { registerOpenApi } from './platform/http/openapi.ts';
import { requestIdFor } from './platform/http/request-id.ts';
import { ErrorResponse } from './platform/http/schemas.ts';
import { registerIdempotency } from './platform/idempotency/idempotency-hooks.ts';
import { registerObservability } from './platform/observability/http-observability.ts';
import type { Platform } from './platform/platform.ts';
import { registerRateLimits } from './platform/rate-limit/rate-limit-hooks.ts';
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
}

/**
 * Builds the HTTP application on a ready platform. Tests call this and use `app.inject()`;
 * `server.ts` listens on it.
 */
export async function buildApp(platform: Platform, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = platform;
  const services = options.services ?? (await buildServices(platform));
  const app = Fastify({
    loggerInstance: platform.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: requestIdFor,
    requestIdHeader: false,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
  }).setValidatorCompiler(TypeBoxValidatorCompiler);

  app.addSchema(ErrorResponse);
  registerErrorHandling(app, platform.reportError);
  registerJsonParser(app, config.jsonMaxDepth);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    // NUL cannot be stored by Postgres; refuse it in the URL as the body parser does in JSON.
    if (request.url.includes('%00') || request.url.includes('\u0000')) {
      return reply.code(400).send(errorBody('NUL_CHARACTER', request.id));
    }
  });

  registerObservability(app, platform);
  // Shed load before any other work (token checks, rate-limit counters, body parsing).
  await app.register(underPressure, {
    maxEventLoopDelay: config.pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.pressure.maxHeapUsedBytes,
    maxEventLoopUtilization: config.pressure.maxEventLoopUtilization,
    retryAfter: 10,
    pressureHandler: (request, reply, type, value) => {
      platform.metrics.shed.inc();
      request.log.warn({ pressure: type, value }, 'shedding load');
      reply.code(503).header('Retry-After', '10').send(errorBody('OVERLOADED', request.id));
    },
  });
  await registerAuthentication(app, services.kit);
  registerRateLimits(app, platform);
  registerIdempotency(app, platform);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    // HSTS only means something behind TLS; the proxy in front sets it too.
    hsts: config.isProduction ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  await app.register(cors, {
    origin: (origin, cb) => cb(null, !origin || config.corsOrigins.includes(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'X-Kith-CSRF'],
    exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Idempotent-Replayed'],
    maxAge: 600,
  });
  await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip'] });

  await registerOpenApi(app, { ui: options.docs ?? true });
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

  return app;
}
