import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { classifyDbError, sqlState } from '../db/db-errors.ts';
import { AppError, ERRORS, type ErrorCode } from '../errors.ts';
import { StorageError, storageAppError } from '../storage/storage-errors.ts';
import type { EdgeHeaders } from './edge-headers.ts';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

export function errorBody(
  code: ErrorCode,
  requestId: string,
  message?: string,
  details?: unknown,
): ErrorBody {
  return {
    error: {
      code,
      message: message ?? ERRORS[code][1],
      ...(details === undefined ? {} : { details }),
      requestId,
    },
  };
}

/** Fastify's own error codes, translated into the catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

/**
 * A PostgreSQL data exception (SQLSTATE class 22: numeric or datetime out of range, invalid text
 * representation, string too long…) means a value from the request was not what the column or
 * function takes — the caller's input, not a fault of ours. Schemas and decoders should have
 * refused it; one that slips through is still a 400, never a 500.
 */
export function isDataException(err: unknown): boolean {
  return sqlState(err)?.startsWith('22') ?? false;
}

export type ErrorReporter = (err: Error, request: FastifyRequest) => void;

/**
 * Every error, 404 and 405 included, answers `{ error: { code, message, details?, requestId } }`;
 * a 5xx never shows its cause to the client, and is logged and reported instead.
 */
export function registerErrorHandling(app: FastifyInstance, report: ErrorReporter): void {
  const routes = FindMyWay();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      try {
        routes.on(method as HTTPMethod, route.url, () => {});
      } catch {
        // the same route registered twice (e.g. with and without a trailing slash) needs no second entry
      }
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter((m) => routes.find(m, path));
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('Allow', allowed.join(', '))
        .send(errorBody('METHOD_NOT_ALLOWED', request.id));
    }
    return reply.code(404).send(errorBody('ROUTE_NOT_FOUND', request.id));
  });

  app.setErrorHandler((err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      if (err.headers) reply.headers(err.headers);
      return reply.code(err.statusCode).send(errorBody(err.code, request.id, err.message, err.details));
    }
    if (err instanceof StorageError) {
      // the media store's failure (logged where it happened), never the database's
      const answer = storageAppError(err);
      if (answer.headers) reply.headers(answer.headers);
      return reply.code(answer.statusCode).send(errorBody(answer.code, request.id));
    }
    if (isDataException(err)) {
      // logged with its SQLSTATE (not sent: the database's wording is not part of the API)
      request.log.warn(
        { err, sqlstate: sqlState(err) },
        'data exception from the database: input not validated',
      );
      return reply.code(400).send(errorBody('INVALID_PARAMETER', request.id));
    }
    if (classifyDbError(err) === 'unavailable') {
      // the database is down, unreachable or overloaded: the request was fine and may be retried
      request.log.warn({ err, sqlstate: sqlState(err) }, 'database unavailable');
      return reply.code(503).header('Retry-After', '2').send(errorBody('DATABASE_UNAVAILABLE', request.id));
    }
    const fastifyError = err as FastifyError;
    if (fastifyError.validation) {
      const details = fastifyError.validation.map((v) => ({
        in: fastifyError.validationContext,
        path: v.instancePath || '/',
        message: v.message,
      }));
      return reply.code(400).send(errorBody('VALIDATION_FAILED', request.id, undefined, details));
    }
    const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
    if (mapped) return reply.code(ERRORS[mapped][0]).send(errorBody(mapped, request.id));
    const status = fastifyError.statusCode ?? 500;
    if (status === 429) return reply.code(429).send(errorBody('RATE_LIMITED', request.id));
    if (status >= 400 && status < 500) {
      return reply.code(status).send(errorBody('BAD_REQUEST', request.id, fastifyError.message));
    }
    request.log.error({ err }, 'unhandled error');
    report(err, request);
    return reply.code(500).send(errorBody('INTERNAL', request.id));
  });
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before a route is chosen (a URL that does
 * not decode, a path parameter over `maxParamLength`). These skip the hooks, so the request id,
 * security and CORS headers are set here; the body is the catalogue's like everywhere else.
 */
export function frameworkErrorHandler(edgeHeaders: EdgeHeaders) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const code = FASTIFY_CODES[err.code] ?? 'BAD_REQUEST';
    const origin = request.headers.origin;
    reply
      .headers(edgeHeaders(typeof origin === 'string' ? origin : undefined))
      .header('X-Request-Id', request.id)
      .code(ERRORS[code][0])
      .send(errorBody(code, request.id));
  };
}
