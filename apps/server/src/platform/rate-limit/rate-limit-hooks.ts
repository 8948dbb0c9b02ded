import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { limitHeader, type PolicyOutcome, policyHeader } from './rate-limit-headers.ts';
import { assertValidPolicy, policyKey, type RoutePolicy, UNLIMITED_ROUTES } from './rate-limit-policy.ts';

/**
 * Rate limits on every route: a default policy per user (or IP when anonymous) plus the route's own
 * `config.rateLimit` policies, counted in the platform's store (Redis, or per instance). Answers
 * `RateLimit-Policy` and `RateLimit` on every limited response, 429 RATE_LIMITED with `Retry-After`
 * when a policy is exceeded. Register after authentication so `request.auth` is known.
 */
export function registerRateLimits(
  app: FastifyInstance,
  platform: Pick<Platform, 'config' | 'metrics' | 'rateLimitStore'>,
) {
  const { rateLimitStore: store, metrics } = platform;
  const defaultPolicy: RoutePolicy = {
    name: 'default',
    limit: platform.config.rateLimit.defaultPerMinute,
    windowMs: 60_000,
    by: 'user',
  };
  const outcomes = new WeakMap<FastifyRequest, PolicyOutcome[]>();

  app.addHook('onRoute', (route) => {
    const policies = route.config?.rateLimit;
    if (!policies) return;
    const names = new Set<string>(['default']);
    for (const policy of policies) {
      assertValidPolicy(policy, route.url);
      if (names.has(policy.name)) throw new Error(`rate-limit policy "${policy.name}" twice on ${route.url}`);
      names.add(policy.name);
    }
  });

  const policiesOf = (request: FastifyRequest): RoutePolicy[] => {
    const config = request.routeOptions.config;
    if (config?.rateLimit === false || UNLIMITED_ROUTES.has(request.routeOptions.url ?? '')) return [];
    return [defaultPolicy, ...(config?.rateLimit ?? [])];
  };

  const check = async (request: FastifyRequest, reply: FastifyReply, policies: RoutePolicy[]) => {
    const keyed = policies
      .map((policy) => ({ policy, key: policyKey(policy, request) }))
      .filter((p): p is { policy: RoutePolicy; key: string } => p.key !== undefined);
    if (keyed.length === 0) return;
    const results = await Promise.all(
      keyed.map(async ({ policy, key }) => ({ policy, ...(await store.hit(key, policy.windowMs)) })),
    );
    const all = [...(outcomes.get(request) ?? []), ...results];
    outcomes.set(request, all);
    reply.header('RateLimit-Policy', policyHeader(all));
    reply.header('RateLimit', limitHeader(all));
    const exceeded = results.filter((r) => r.count > r.policy.limit);
    if (exceeded.length === 0) return;
    // the client may retry once every exceeded window has reset
    const retryAfter = Math.max(1, ...exceeded.map((r) => Math.ceil(r.resetMs / 1000)));
    for (const { policy } of exceeded) metrics.rateLimited.inc({ policy: policy.name });
    // through the one error handler, like every other error answer
    throw new AppError(
      'RATE_LIMITED',
      undefined,
      { policies: exceeded.map((r) => r.policy.name), retryAfterSeconds: retryAfter },
      { 'Retry-After': String(retryAfter) },
    );
  };

  // ip and user keys need nothing from the body: refuse before it is read
  app.addHook('onRequest', async (request, reply) =>
    check(
      request,
      reply,
      policiesOf(request).filter((p) => typeof p.by === 'string'),
    ),
  );
  app.addHook('preHandler', async (request, reply) =>
    check(
      request,
      reply,
      policiesOf(request).filter((p) => typeof p.by === 'function'),
    ),
  );
}
