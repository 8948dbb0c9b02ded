import { useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useSyncExternalStore } from 'react';
import { api, call } from '../../api/client.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { refreshMe, useLinkToken, usePostOnArrival } from './account-query.ts';

export const Route = createLazyRoute('/verify-email')({ component: VerifyEmailScreen });

/** The verification link's page: one POST on arrival, signed in or out; the banner goes at once. */
function VerifyEmailScreen() {
  const { t } = useTranslation();
  const token = useLinkToken();
  const { session } = Route.useRouteContext();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const queryClient = useQueryClient();
  const verify = usePostOnArrival(token, async (value) => {
    await call(api.POST('/api/v1/auth/verify-email', { body: { token: value } }));
    // the address is confirmed even if reading /me fails: the banner then goes at the next load.
    // A tab opened from the mail may still be restoring its session: wait, or /me could be older
    await session.ready();
    await refreshMe(queryClient, session).catch(() => undefined);
  });
  const signedIn = state.status === 'signedIn';
  return (
    <section className="page narrow">
      <h1>{t('account.verify.title')}</h1>
      {!token ? (
        <p className="error">{t('account.verify.noToken')}</p>
      ) : verify.isSuccess ? (
        <>
          <p role="status">{t('account.verify.done')}</p>
          {signedIn ? (
            <Link to="/" className="button primary">
              {t('account.verify.continue')}
            </Link>
          ) : (
            <Link to="/login" className="button primary">
              {t('account.verify.logIn')}
            </Link>
          )}
        </>
      ) : verify.isError ? (
        <>
          <ErrorMessage error={verify.error} />
          {!signedIn && <p>{t('account.verify.signedInHint')}</p>}
        </>
      ) : (
        <Loading />
      )}
    </section>
  );
}
