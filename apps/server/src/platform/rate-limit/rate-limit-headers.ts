import type { RoutePolicy } from './rate-limit-policy.ts';

export interface PolicyOutcome {
  policy: RoutePolicy;
  count: number;
  resetMs: number;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): `"default";q=600;w=60, …` */
export function policyHeader(outcomes: readonly PolicyOutcome[]): string {
  return outcomes
    .map(({ policy }) => `"${policy.name}";q=${policy.limit};w=${seconds(policy.windowMs)}`)
    .join(', ');
}

/** `RateLimit`: the quota remaining and the seconds until it resets, `"default";r=599;t=42, …` */
export function limitHeader(outcomes: readonly PolicyOutcome[]): string {
  return outcomes
    .map(
      ({ policy, count, resetMs }) =>
        `"${policy.name}";r=${Math.max(0, policy.limit - count)};t=${seconds(resetMs)}`,
    )
    .join(', ');
}
