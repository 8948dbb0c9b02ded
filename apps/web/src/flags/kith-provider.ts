import {
  ErrorCode,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from '@openfeature/web-sdk';
import type { ResponseOf } from '../api/client.ts';

export type ClientFlags = ResponseOf<'/api/v1/flags', 'get'>;
type Kind = 'boolean' | 'string' | 'number' | 'object';

/**
 * OpenFeature provider over `GET /api/v1/flags`: the server evaluates every client-visible flag for
 * the caller (rollout by user id, role rules, kill switch) and this provider answers from that
 * answer, synchronously, as the web SDK asks. The flags are re-read when the evaluation context
 * changes (sign-in, sign-out) and on `refresh()`.
 */
export class KithFlagProvider implements Provider {
  readonly metadata = { name: 'kith' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  private flags: ClientFlags['flags'] = {};

  /** @param load reads the flags for the signed-in user (through the generated client). */
  constructor(private readonly load: () => Promise<ClientFlags>) {}

  async initialize(): Promise<void> {
    await this.read();
  }

  async onContextChange(): Promise<void> {
    await this.read();
  }

  /** Re-reads the flags for the same user (a flag changed on the server) and tells the clients. */
  async refresh(): Promise<void> {
    const before = this.flags;
    await this.read();
    const changed = [...new Set([...Object.keys(before), ...Object.keys(this.flags)])].filter(
      (key) => JSON.stringify(before[key]) !== JSON.stringify(this.flags[key]),
    );
    if (changed.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed });
  }

  resolveBooleanEvaluation(key: string, fallback: boolean): ResolutionDetails<boolean> {
    return this.resolve(key, fallback, 'boolean');
  }
  resolveStringEvaluation(key: string, fallback: string): ResolutionDetails<string> {
    return this.resolve(key, fallback, 'string');
  }
  resolveNumberEvaluation(key: string, fallback: number): ResolutionDetails<number> {
    return this.resolve(key, fallback, 'number');
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, fallback: T): ResolutionDetails<T> {
    return this.resolve(key, fallback, 'object');
  }

  private async read(): Promise<void> {
    this.flags = (await this.load()).flags;
  }

  private resolve<T>(key: string, fallback: T, kind: Kind): ResolutionDetails<T> {
    const flag = this.flags[key];
    if (!flag) return { value: fallback, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND };
    const type = flag.value === null || Array.isArray(flag.value) ? 'object' : typeof flag.value;
    if (type !== kind) {
      return {
        value: fallback,
        reason: 'ERROR',
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `flag ${key} is ${type}, asked for ${kind}`,
      };
    }
    return { value: flag.value as T, variant: flag.variant, reason: flag.reason };
  }
}
