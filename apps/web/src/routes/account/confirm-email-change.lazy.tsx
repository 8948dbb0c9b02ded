import { useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useSyncExternalStore } from 'react';
import { api, call } from '../../api/client.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { refreshMe, useLinkToken, usePostOnArrival } from './account-query.ts';

export const Route = createLazyRoute('/confirm-email-change')({ component: ConfirmEmailChangeScreen });

/** The link sent to the new address: confirms on arrival and shows the address the account has now. */
function ConfirmEmailChangeScreen() {
  const { t } = useTranslation();
  const token = useLinkToken();
  const { session } = Route.useRouteContext();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const queryClient = useQueryClient();
  const confirm = usePostOnArrival(token, async (value) => {
    const { email } = await call(api.POST('/api/v1/auth/email-change/confirm', { body: { token: value } }));
    await session.ready();
    await refreshMe(queryClient, session).catch(() => undefined);
    return email;
  });
  return (
    <section className="page narrow">
      <h1>{t('account.confirmChange.title')}</h1>
      {!token ? (
        <p className="error">{t('account.confirmChange.noToken')}</p>
      ) : confirm.isSuccess ? (
        <>
          <p role="status">{t('account.confirmChange.done', { email: confirm.data })}</p>
          {state.status === 'signedIn' ? (
            <Link to="/settings" className="button primary">
              {t('account.confirmChange.continue')}
            </Link>
          ) : (
            <Link to="/login" className="button primary">
              {t('account.verify.logIn')}
            </Link>
          )}
        </>
      ) : confirm.isError ? (
        <ErrorMessage error={confirm.error} />
      ) : (
        <Loading />
      )}
    </section>
  );
}
