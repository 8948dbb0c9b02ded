import { type EvaluationContext, OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { api, call } from '../api/client.ts';
import { type AuthSession, session } from '../auth/session.ts';
import { type ClientFlags, KithFlagProvider } from './kith-provider.ts';
import type { FlagRuntime, FlagValue } from './use-flag.ts';

/** The OpenFeature domain of the web app's flags. */
export const FLAGS_DOMAIN = 'kith-web';

export interface FlagDeps {
  load: () => Promise<ClientFlags>;
  session: Pick<AuthSession, 'subscribe' | 'getState'>;
}

const contextOf = (state: ReturnType<AuthSession['getState']>): EvaluationContext =>
  state.status === 'signedIn' ? { targetingKey: state.user.id } : {};

/**
 * Loaded lazily by `useFlag` (the SDK stays out of the initial bundle): sets the Kith provider for
 * the signed-in user and follows the session, so a sign-in or sign-out re-reads the flags.
 */
export async function startFlags(
  deps: FlagDeps = { load: () => call(api.GET('/api/v1/flags')), session },
): Promise<FlagRuntime> {
  const provider = new KithFlagProvider(deps.load);
  let context = contextOf(deps.session.getState());
  // a failed first read (offline) leaves every flag at its default until the next context change
  await OpenFeature.setProviderAndWait(FLAGS_DOMAIN, provider, context).catch(() => {});
  const client = OpenFeature.getClient(FLAGS_DOMAIN);
  deps.session.subscribe(() => {
    const next = contextOf(deps.session.getState());
    if (next.targetingKey === context.targetingKey) return; // a token refresh, a profile edit
    context = next;
    void OpenFeature.setContext(FLAGS_DOMAIN, next).catch(() => {});
  });
  const events = [
    ProviderEvents.Ready,
    ProviderEvents.ConfigurationChanged,
    ProviderEvents.ContextChanged,
    ProviderEvents.Error,
  ];
  return {
    value<T extends FlagValue>(key: string, fallback: T): T {
      if (typeof fallback === 'boolean') return client.getBooleanValue(key, fallback) as T;
      if (typeof fallback === 'number') return client.getNumberValue(key, fallback) as T;
      return client.getStringValue(key, fallback) as T;
    },
    subscribe(listener) {
      for (const event of events) client.addHandler(event, listener);
      return () => {
        for (const event of events) client.removeHandler(event, listener);
      };
    },
    refresh: () => provider.refresh(),
  };
}
