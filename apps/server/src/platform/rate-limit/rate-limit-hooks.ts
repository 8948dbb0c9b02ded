import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import { limitHeader, type PolicyOutcome, policyHeader } from './rate-limit-headers.ts';
import {
  assertValidPolicy,
  policyKey,
  type RoutePolicy,
  UNLIMITED_ROUTES,
  type UnverifiedWrite,
  unverifiedPolicy,
} from './rate-limit-policy.ts';

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
  /** A route's policies, split by when they can be checked; made once per route. */
  interface RoutePlan {
    /** Keyed by IP or user: checked in onRequest, before the body is read. */
    early: RoutePolicy[];
    /** `RateLimit-Policy` of the early policies (they always apply). */
    earlyHeader: string;
    /** Keyed by a function of the request (the body): checked in preHandler. */
    late: RoutePolicy[];
  }
  const planFor = (policies: RoutePolicy[]): RoutePlan => {
    const early = policies.filter((p) => typeof p.by === 'string');
    return {
      early,
      earlyHeader: policyHeader(early.map((policy) => ({ policy, count: 0, resetMs: 0 }))),
      late: policies.filter((p) => typeof p.by === 'function'),
    };
  };
  const unverifiedPolicies = (kind: UnverifiedWrite | undefined): RoutePolicy[] => {
    const policy = kind && unverifiedPolicy(kind, platform.config.rateLimit.unverifiedPerHour);
    return policy ? [policy] : [];
  };
  const NONE = planFor([]);
  const DEFAULT_ONLY = planFor([defaultPolicy]);
  const plans = new WeakMap<object, RoutePlan>();
  /** Early outcomes of requests whose route has late policies too (both go in the headers). */
  const earlier = new WeakMap<FastifyRequest, PolicyOutcome[]>();

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

  const planOf = (request: FastifyRequest): RoutePlan => {
    const config = request.routeOptions.config;
    if (!config) return DEFAULT_ONLY;
    let plan = plans.get(config);
    if (!plan) {
      plan =
        config.rateLimit === false || UNLIMITED_ROUTES.has(config.url ?? '')
          ? NONE
          : planFor([
              defaultPolicy,
              ...(config.rateLimit ?? []),
              ...unverifiedPolicies(config.unverifiedWrite),
            ]);
      plans.set(config, plan);
    }
    return plan;
  };

  /** Counts the request against `policies`; synchronous when the store answers at once (in-process). */
  const check = (
    request: FastifyRequest,
    reply: FastifyReply,
    policies: RoutePolicy[],
    plan: RoutePlan,
  ): Promise<void> | undefined => {
    const results: (PolicyOutcome | undefined)[] = [];
    let pending: Promise<unknown>[] | undefined;
    policies.forEach((policy, i) => {
      const key = policyKey(policy, request);
      if (key === undefined) return;
      const hit = store.hit(key, policy.windowMs);
      if (hit instanceof Promise) {
        pending ??= [];
        pending.push(hit.then((r) => (results[i] = { policy, count: r.count, resetMs: r.resetMs })));
      } else results[i] = { policy, count: hit.count, resetMs: hit.resetMs };
    });
    if (pending) return Promise.all(pending).then(() => settle(request, reply, results, policies, plan));
    settle(request, reply, results, policies, plan);
    return undefined;
  };

  const settle = (
    request: FastifyRequest,
    reply: FastifyReply,
    outcomes: (PolicyOutcome | undefined)[],
    policies: RoutePolicy[],
    plan: RoutePlan,
  ) => {
    const results = outcomes.filter((r): r is PolicyOutcome => r !== undefined);
    if (results.length === 0) return;
    const before = plan.late.length > 0 ? earlier.get(request) : undefined;
    const all = before ? [...before, ...results] : results;
    if (plan.late.length > 0 && !before) earlier.set(request, all);
    // the early policies always apply (ip and user keys): their header is made once per route
    reply.header(
      'RateLimit-Policy',
      before || policies !== plan.early ? policyHeader(all) : plan.earlyHeader,
    );
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

  // Callback hooks: with the in-process store a request's limits cost no promise at all.
  const hook =
    (which: 'early' | 'late') =>
    (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
      const plan = planOf(request);
      const policies = plan[which];
      if (policies.length === 0) {
        done();
        return;
      }
      let pending: Promise<void> | undefined;
      try {
        pending = check(request, reply, policies, plan);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (pending) pending.then(() => done(), done);
      else done();
    };
  // ip and user keys need nothing from the body: refuse before it is read
  app.addHook('onRequest', hook('early'));
  app.addHook('preHandler', hook('late'));
}
