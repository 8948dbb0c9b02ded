import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errorBody } from '../http/error-handler.ts';
import type { Platform } from '../platform.ts';
import { IdempotencyRepository, type StoredResponse } from './idempotency.repository.ts';
import {
  IDEMPOTENCY_KEY_PATTERN,
  idempotencyScope,
  invalidKeyMessage,
  readIdempotencyKey,
  requestHash,
} from './idempotency-key.ts';
import { openBody, sealBody, storageKey } from './idempotency-seal.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Honour `Idempotency-Key` on this route (unsafe POSTs a client may retry). */
    idempotent?: boolean;
  }
}

/**
 * How long a run holds its key. A retry within it gets 409; after it, a run that died (instance killed)
 * is taken over. Longer than any request may take (SHUTDOWN_TIMEOUT bounds in-flight work).
 */
const LOCK_SECONDS = 120;
/** Response headers worth replaying; never Set-Cookie (a replay must not mint cookies). */
const REPLAYED_HEADERS = [
  'content-type',
  'location',
  'content-language',
  'cache-control',
  'etag',
  'last-modified',
];
const MAX_CLAIM_ATTEMPTS = 3;

const KeyHeader = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: IDEMPOTENCY_KEY_PATTERN,
  description:
    'Makes a retry safe: the same key and body replay the first response (`Idempotent-Replayed: true`); ' +
    'another body answers 422, a retry while the first still runs 409. Kept 24 h. Without signing in, ' +
    'keys are shared by every client of the route: send a random UUID (at least 16 characters, else 400).',
});

/**
 * Idempotency-Key on routes with `config: { idempotent: true }`, durable in Postgres. The first request
 * claims the key and runs; its 2xx or 4xx response is stored and replayed for the same key and body;
 * a 5xx releases the key so the client can retry. Register after authentication and rate limits.
 */
export function registerIdempotency(app: FastifyInstance, platform: Pick<Platform, 'config' | 'db'>): void {
  const records = new IdempotencyRepository(platform.db.primary);
  const ttlHours = platform.config.idempotencyTtlHours;
  const claims = new WeakMap<FastifyRequest, { scope: string; key: string }>();

  // Clients learn about the header from the OpenAPI document.
  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    route.schema ??= {};
    const schema = route.schema;
    const headers = schema.headers as
      | { properties?: Record<string, unknown>; required?: string[] }
      | undefined;
    schema.headers = Type.Object(
      { ...(headers?.properties as Record<string, never>), 'idempotency-key': Type.Optional(KeyHeader) },
      headers?.required ? { required: headers.required } : {},
    );
  });

  // A malformed key is refused before the body is even read.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.config?.idempotent) return;
    if (readIdempotencyKey(request) === 'invalid') {
      return reply
        .code(400)
        .send(errorBody('INVALID_IDEMPOTENCY_KEY', request.id, invalidKeyMessage(request)));
    }
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config?.idempotent) return;
    const key = readIdempotencyKey(request);
    if (key === undefined || key === 'invalid') return;
    const scope = idempotencyScope(request);
    const hash = requestHash(request);
    const stored = storageKey(scope, key);
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      if (
        await records.claim({ scope, key: stored, requestHash: hash, lockSeconds: LOCK_SECONDS, ttlHours })
      ) {
        claims.set(request, { scope, key });
        return;
      }
      const record = await records.find(scope, stored);
      // gone between the two statements (released or expired): claim again
      if (!record) continue;
      if (record.requestHash !== hash) {
        return reply.code(422).send(errorBody('IDEMPOTENCY_KEY_REUSED', request.id));
      }
      const body = record.response && openBody(scope, key, record.response.body);
      if (record.response && body !== undefined) {
        return reply
          .code(record.response.status)
          .headers(record.response.headers)
          .header('Idempotent-Replayed', 'true')
          .send(body);
      }
      return reply
        .code(409)
        .header('Retry-After', '1')
        .send(errorBody('IDEMPOTENCY_IN_PROGRESS', request.id));
    }
    return reply.code(409).header('Retry-After', '1').send(errorBody('IDEMPOTENCY_IN_PROGRESS', request.id));
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = claims.get(request);
    if (!claim) return payload;
    claims.delete(request);
    const status = reply.statusCode;
    const body =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    try {
      const stored = storageKey(claim.scope, claim.key);
      if (status >= 500 || body === undefined) {
        await records.release(claim.scope, stored);
      } else {
        await records.complete(claim.scope, stored, {
          status,
          headers: replayedHeaders(reply.getHeaders()),
          body: sealBody(claim.scope, claim.key, body),
        });
      }
    } catch (err) {
      // The response still goes out; the claim's lock expires and a retry then runs again.
      request.log.error({ err, component: 'idempotency' }, 'could not store the idempotent response');
    }
    return payload;
  });
}

function replayedHeaders(headers: Record<string, unknown>): StoredResponse['headers'] {
  const kept: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' || typeof value === 'number') kept[name] = String(value);
  }
  return kept;
}
