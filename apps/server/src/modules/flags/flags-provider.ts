import {
  ErrorCode,
  type EvaluationContext,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { evaluateFlag } from './evaluate.ts';
import type { FlagStore } from './flag-store.ts';

type Kind = 'boolean' | 'string' | 'number' | 'object';

/** OpenFeature provider over Kith's Postgres-backed flag store (evaluated in process). */
export class KithFlagProvider implements Provider {
  readonly metadata = { name: 'kith-postgres' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();

  constructor(private readonly store: FlagStore) {
    store.onChange(() => this.events.emit(ProviderEvents.ConfigurationChanged, {}));
  }

  resolveBooleanEvaluation(key: string, fallback: boolean, context: EvaluationContext) {
    return Promise.resolve(this.resolve(key, fallback, context, 'boolean'));
  }
  resolveStringEvaluation(key: string, fallback: string, context: EvaluationContext) {
    return Promise.resolve(this.resolve(key, fallback, context, 'string'));
  }
  resolveNumberEvaluation(key: string, fallback: number, context: EvaluationContext) {
    return Promise.resolve(this.resolve(key, fallback, context, 'number'));
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, fallback: T, context: EvaluationContext) {
    return Promise.resolve(this.resolve(key, fallback, context, 'object'));
  }

  private resolve<T>(key: string, fallback: T, context: EvaluationContext, kind: Kind): ResolutionDetails<T> {
    const flag = this.store.get(key);
    if (!flag) return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND };
    const result = evaluateFlag(flag, {
      targetingKey: context.targetingKey,
      role: typeof context.role === 'string' ? context.role : undefined,
    });
    const type = result.value === null || Array.isArray(result.value) ? 'object' : typeof result.value;
    if (type !== kind) {
      return {
        value: fallback,
        reason: 'ERROR',
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `flag ${key} is ${type}, asked for ${kind}`,
      };
    }
    return { value: result.value as T, variant: result.variant, reason: result.reason };
  }
}
