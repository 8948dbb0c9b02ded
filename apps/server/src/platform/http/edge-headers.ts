import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyCorsOptions } from '@fastify/cors';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import helmet from 'helmet';
import type { Config } from '../../config.ts';

type HeaderConfig = Pick<Config, 'isProduction' | 'corsOrigins'>;

/** The security headers of every answer: strict CSP, no framing, nosniff, HSTS behind TLS. */
export function helmetOptions(config: Pick<Config, 'isProduction'>): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    // HSTS only means something behind TLS; the proxy in front sets it too.
    hsts: config.isProduction ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: { policy: 'same-site' },
  };
}

const CORS_EXPOSED = ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Idempotent-Replayed'];

/** CORS for the configured origins only, with credentials (the refresh cookie). */
export function corsOptions(config: Pick<Config, 'corsOrigins'>): FastifyCorsOptions {
  return {
    origin: (origin, cb) => cb(null, !origin || config.corsOrigins.includes(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'X-Kith-CSRF'],
    exposedHeaders: CORS_EXPOSED,
    maxAge: 600,
  };
}

/** Runs helmet's own middleware once against a recorder: the exact headers the plugin sends. */
function helmetHeaders(options: FastifyHelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name];
    },
  };
  // the plugin's options are helmet's own (its types come from another copy of helmet's typings)
  helmet(options as Parameters<typeof helmet>[0])(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    (err) => {
      if (err) throw err;
    },
  );
  return headers;
}

/**
 * Headers for answers written outside Fastify's hooks (the HTTP parser's errors, router errors):
 * the security headers helmet sends on every other answer, and CORS when `origin` is allowed — the
 * same set a request through the hooks gets.
 */
export type EdgeHeaders = (origin: string | undefined) => Record<string, string>;

export function edgeHeaders(config: HeaderConfig): EdgeHeaders {
  const security = Object.freeze(helmetHeaders(helmetOptions(config)));
  const allowed = new Set(config.corsOrigins);
  return (origin) => {
    if (origin === undefined || !allowed.has(origin)) return { ...security };
    return {
      ...security,
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Expose-Headers': CORS_EXPOSED.join(', '),
      Vary: 'Origin',
    };
  };
}
