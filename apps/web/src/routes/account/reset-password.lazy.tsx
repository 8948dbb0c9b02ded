import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { api, call } from '../../api/client.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { checkPassword, PASSWORD_MAX, PASSWORD_MIN } from '../signup/password-rules.ts';
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
  const ids = { password: useId(), confirm: useId(), rules: useId() };
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [touched, setTouched] = useState(false);
  const rules = checkPassword(password, '');
  const same = password !== '' && password === confirm;
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
    if (rules.longEnough && rules.notTooLong && same) reset.mutate(password);
  };
  const rule = (met: boolean, text: string) => (
    <li className={met ? 'rule met' : 'rule'}>
      <span aria-hidden="true">{met ? '✓' : '•'}</span> {text}{' '}
      <span className="visually-hidden">{met ? t('signup.ruleMet') : t('signup.ruleNotMet')}</span>
    </li>
  );
  return (
    <section className="page narrow">
      <h1>{t('account.reset.title')}</h1>
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={ids.password}>{t('account.reset.password')}</label>
          <input
            id={ids.password}
            name="password"
            type="password"
            autoComplete="new-password"
            required
            maxLength={PASSWORD_MAX}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={touched && !(rules.longEnough && rules.notTooLong)}
            aria-describedby={ids.rules}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.confirm}>{t('account.reset.confirm')}</label>
          <input
            id={ids.confirm}
            name="confirm"
            type="password"
            autoComplete="new-password"
            required
            maxLength={PASSWORD_MAX}
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            aria-invalid={touched && !same}
            aria-describedby={ids.rules}
          />
        </div>
        <ul id={ids.rules} className="rules">
          {rule(rules.longEnough, t('signup.ruleLength', { min: PASSWORD_MIN }))}
          {rule(same, t('account.reset.ruleMatch'))}
          <li className="rule">
            <span aria-hidden="true">•</span> {t('signup.ruleCommon')}
          </li>
        </ul>
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
