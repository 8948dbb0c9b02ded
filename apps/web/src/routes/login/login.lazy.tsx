import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link, useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useId, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { session } from '../../auth/session.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';

export const Route = createLazyRoute('/login')({ component: LoginScreen });

function LoginScreen() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { next } = useSearch({ from: '/login' });
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const loginId = useId();
  const passwordId = useId();
  const login = useMutation({
    mutationFn: (body: { login: string; password: string }) => call(api.POST('/api/v1/auth/login', { body })),
    onSuccess: (result) => {
      session.signedIn(result);
      void navigate({ to: next ?? '/' });
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    login.mutate({ login: String(form.get('login') ?? ''), password: String(form.get('password') ?? '') });
  };
  return (
    <section className="page narrow">
      <h1>{t('login.title')}</h1>
      {state.status === 'anonymous' && state.expired && (
        <p className="notice" role="status">
          {t('errors.sessionExpired')}
        </p>
      )}
      <form onSubmit={submit} className="stack" noValidate={false}>
        <div className="field">
          <label htmlFor={loginId}>{t('login.login')}</label>
          <input id={loginId} name="login" autoComplete="username" required maxLength={254} />
        </div>
        <div className="field">
          <label htmlFor={passwordId}>{t('login.password')}</label>
          <input
            id={passwordId}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={256}
          />
        </div>
        {login.error && <ErrorMessage error={login.error} />}
        <button type="submit" className="button primary" disabled={login.isPending}>
          {login.isPending ? t('login.submitting') : t('login.submit')}
        </button>
      </form>
      <p>
        {t('login.noAccount')} <Link to="/signup">{t('nav.signup')}</Link>
      </p>
    </section>
  );
}
