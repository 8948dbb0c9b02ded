import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api, call } from '../../api/client.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { NewPasswordFields, useNewPassword } from '../../ui/password/new-password-fields.tsx';
import { isBadToken, useLinkToken } from './account-query.ts';

export const Route = createLazyRoute('/reset-password')({ component: ResetPasswordScreen });

/**
 * The reset link's page: the new password twice, with sign-up's rules shown before submitting. The
 * server signs out every session of the account, so this tab is signed out too afterwards.
 */
function ResetPasswordScreen() {
  const { t } = useTranslation();
  const token = useLinkToken();
  const { session } = Route.useRouteContext();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [touched, setTouched] = useState(false);
  const newPassword = useNewPassword(password, { confirm });
  const reset = useMutation({
    mutationFn: (newPassword: string) =>
      call(api.POST('/api/v1/auth/password-reset/confirm', { body: { token: token ?? '', newPassword } })),
    onSuccess: async () => {
      // every session was revoked on the server: drop this tab's too (its token no longer works)
      if (session.getState().status === 'signedIn') await session.signOut().catch(() => undefined);
    },
  });
  if (!token) {
    return (
      <section className="page narrow">
        <h1>{t('account.reset.title')}</h1>
        <p className="error">{t('account.reset.noToken')}</p>
        <Link to="/forgot-password">{t('account.reset.askAgain')}</Link>
      </section>
    );
  }
  if (reset.isSuccess) {
    return (
      <section className="page narrow">
        <h1>{t('account.reset.doneTitle')}</h1>
        <p role="status">{t('account.reset.done')}</p>
        <Link to="/login" className="button primary">
          {t('account.reset.logIn')}
        </Link>
      </section>
    );
  }
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setTouched(true);
    if (newPassword.acceptable) reset.mutate(password);
  };
  return (
    <section className="page narrow">
      <h1>{t('account.reset.title')}</h1>
      <form onSubmit={submit} className="stack" noValidate>
        <NewPasswordFields
          label={t('account.reset.password')}
          password={password}
          onPassword={setPassword}
          confirmLabel={t('account.reset.confirm')}
          confirm={confirm}
          onConfirm={setConfirm}
          touched={touched}
        />
        {reset.error && (
          <>
            <ErrorMessage error={reset.error} />
            {isBadToken(reset.error) && <Link to="/forgot-password">{t('account.reset.askAgain')}</Link>}
          </>
        )}
        <button type="submit" className="button primary" disabled={reset.isPending}>
          {reset.isPending ? t('account.reset.submitting') : t('account.reset.submit')}
        </button>
      </form>
    </section>
  );
}
