import compress from '@fastify/compress';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import underPressure from '@fastify/under-pressure';
import Fastify from 'fastify';
import pino from 'pino';

/**
 * The third baseline: a Fastify hello with only the standard plugins Kith uses, configured as Kith
 * configures them (helmet with the same CSP, CORS with an origin allowlist, compression over 1 KiB,
 * under-pressure with the thresholds the benches give Kith) and one pino access-log line per request
 * written to stdout (the bench sends it to a file, as it does Kith's). Nothing of Kith's own work:
 * no authentication, rate limits, idempotency, metrics or database. `GET /hello` answers a constant.
 */
const origins = ['http://localhost:5173'];
const logger = pino({
  level: 'info',
  base: { service: 'baseline', pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  messageKey: 'msg',
  formatters: { level: (label) => ({ level: label }) },
});
const app = Fastify({ loggerInstance: logger, disableRequestLogging: true, requestIdLogLabel: 'request_id' });

await app.register(underPressure, {
  maxEventLoopDelay: Number(process.env.MAX_EVENT_LOOP_DELAY_MS ?? 0),
  maxEventLoopUtilization: Number(process.env.MAX_EVENT_LOOP_UTILIZATION ?? 0),
  maxHeapUsedBytes: 0,
  retryAfter: 10,
});
await app.register(helmet, {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  hsts: { maxAge: 31_536_000, includeSubDomains: true },
  crossOriginResourcePolicy: { policy: 'same-site' },
});
await app.register(cors, {
  origin: (origin, cb) => cb(null, !origin || origins.includes(origin)),
  credentials: true,
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
  exposedHeaders: ['X-Request-Id'],
  maxAge: 600,
});
await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip'] });

app.addHook('onResponse', async (request, reply) => {
  request.log.info(
    {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      latency_ms: Math.round(reply.elapsedTime * 100) / 100,
      ip: request.ip,
    },
    'request completed',
  );
});

app.get('/hello', async () => ({ hello: 'world' }));

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.once('SIGTERM', () => {
  app.close().finally(() => process.exit(0));
});
