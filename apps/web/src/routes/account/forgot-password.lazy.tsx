import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { type FormEvent, useId } from 'react';
import { api, call } from '../../api/client.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';

export const Route = createLazyRoute('/forgot-password')({ component: ForgotPasswordScreen });

/**
 * Asks for a reset link. The server answers the same whether or not an account matches, and so does
 * this screen: it never says whether the login exists. A 429 says when to try again.
 */
function ForgotPasswordScreen() {
  const { t } = useTranslation();
  const id = useId();
  const request = useMutation({
    mutationFn: (login: string) =>
      call(api.POST('/api/v1/auth/password-reset', { body: { login } })).then(() => login),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const login = String(new FormData(event.currentTarget).get('login') ?? '').trim();
    if (login) request.mutate(login);
  };
  if (request.isSuccess) {
    return (
      <section className="page narrow">
        <h1>{t('account.forgot.sentTitle')}</h1>
        <p role="status">{t('account.forgot.sent', { login: request.data })}</p>
        <div className="row">
          <button type="button" className="button" onClick={() => request.reset()}>
            {t('account.forgot.again')}
          </button>
          <Link to="/login">{t('account.forgot.backToLogin')}</Link>
        </div>
      </section>
    );
  }
  return (
    <section className="page narrow">
      <h1>{t('account.forgot.title')}</h1>
      <p>{t('account.forgot.intro')}</p>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor={id}>{t('account.forgot.login')}</label>
          <input id={id} name="login" autoComplete="username" required maxLength={254} />
        </div>
        {request.error && <ErrorMessage error={request.error} />}
        <button type="submit" className="button primary" disabled={request.isPending}>
          {request.isPending ? t('account.forgot.submitting') : t('account.forgot.submit')}
        </button>
      </form>
      <p>
        <Link to="/login">{t('account.forgot.backToLogin')}</Link>
      </p>
    </section>
  );
}
