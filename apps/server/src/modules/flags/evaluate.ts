import { createHash } from 'node:crypto';
import type { RoleRule, RolloutStep } from '../../platform/db/schema-flags.ts';

/** A flag as evaluated: what the table holds, without timestamps. */
export interface FlagDefinition {
  key: string;
  enabled: boolean;
  variants: Record<string, unknown>;
  defaultVariant: string;
  roleRules: RoleRule[];
  rollout: RolloutStep[];
  clientVisible: boolean;
}

/** Who a flag is evaluated for (OpenFeature's evaluation context). */
export interface FlagContext {
  /** The user id: the rollout hashes it, so a user keeps their variant as the percentage grows. */
  targetingKey?: string | undefined;
  role?: string | undefined;
}

export type FlagReason = 'DISABLED' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT';

export interface Evaluation {
  variant: string;
  value: unknown;
  reason: FlagReason;
}

/** 0–9999: where a user falls for a flag (the flag key salts it, so rollouts are independent). */
export function bucketOf(flagKey: string, userId: string): number {
  return createHash('sha256').update(`${flagKey}\0${userId}`).digest().readUInt32BE(0) % 10_000;
}

/**
 * Evaluates a flag: the kill switch first (disabled → the default variant), then role rules, then
 * the percentage rollout (cumulative steps over the user's bucket), else the default variant.
 * Anonymous callers (no targeting key) get the default variant from the rollout stage.
 */
export function evaluateFlag(flag: FlagDefinition, context: FlagContext): Evaluation {
  const pick = (variant: string, reason: FlagReason): Evaluation => ({
    variant,
    value: flag.variants[variant],
    reason,
  });
  if (!flag.enabled) return pick(flag.defaultVariant, 'DISABLED');
  if (context.role) {
    const rule = flag.roleRules.find((r) => r.roles.includes(context.role!));
    if (rule) return pick(rule.variant, 'TARGETING_MATCH');
  }
  if (context.targetingKey && flag.rollout.length > 0) {
    const bucket = bucketOf(flag.key, context.targetingKey);
    let edge = 0;
    for (const step of flag.rollout) {
      edge += Math.round(step.percent * 100);
      if (bucket < edge) return pick(step.variant, 'SPLIT');
    }
  }
  return pick(flag.defaultVariant, 'DEFAULT');
}
