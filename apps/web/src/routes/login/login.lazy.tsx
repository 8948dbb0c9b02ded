import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link, useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useId, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type ResponseOf } from '../../api/client.ts';
import { isPasskeyCancel, passkeysSupported, signWithPasskey } from '../../auth/passkeys.ts';
import { session } from '../../auth/session.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { type Challenge, SecondFactorStep } from './second-factor-step.tsx';

export const Route = createLazyRoute('/login')({ component: LoginScreen });

type SignedIn = ResponseOf<'/api/v1/auth/login', 'post'>;
/** 200 with a session, or 202 with the second-factor challenge (2FA on). */
type LoginAnswer = SignedIn | Challenge;

function LoginScreen() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { next } = useSearch({ from: '/login' });
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const loginId = useId();
  const passwordId = useId();
  const [challenge, setChallenge] = useState<Challenge>();
  const done = (result: SignedIn) => {
    session.signedIn(result);
    void navigate({ to: next ?? '/' });
  };
  const login = useMutation({
    mutationFn: (body: { login: string; password: string }) =>
      call(api.POST('/api/v1/auth/login', { body })) as Promise<LoginAnswer>,
    onSuccess: (result) => {
      // 2FA on: the password was right, the second step comes next (no session yet)
      if ('challengeToken' in result) setChallenge(result as Challenge);
      else done(result as SignedIn);
    },
  });
  const passkey = useMutation({
    mutationFn: async () => {
      const { challengeId, options } = await call(api.POST('/api/v1/auth/passkeys/login/options'));
      const response = await signWithPasskey(options);
      return call(api.POST('/api/v1/auth/passkeys/login', { body: { challengeId, response } }));
    },
    onSuccess: done,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    login.mutate({ login: String(form.get('login') ?? ''), password: String(form.get('password') ?? '') });
  };
  if (challenge) {
    return (
      <SecondFactorStep
        challenge={challenge}
        onSignedIn={done}
        onRestart={() => {
          setChallenge(undefined);
          login.reset();
        }}
      />
    );
  }
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
          <input id={loginId} name="login" autoComplete="username webauthn" required maxLength={254} />
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
      {passkeysSupported() && (
        <div className="stack passkey-login">
          <p className="muted">{t('twoFactor.login.or')}</p>
          <button
            type="button"
            className="button"
            onClick={() => passkey.mutate()}
            disabled={passkey.isPending}
          >
            {passkey.isPending ? t('twoFactor.login.passkeyWaiting') : t('twoFactor.login.passkeyLogin')}
          </button>
          {passkey.error &&
            (isPasskeyCancel(passkey.error) ? (
              <p role="alert">{t('twoFactor.passkeyCancelled')}</p>
            ) : (
              <ErrorMessage error={passkey.error} />
            ))}
        </div>
      )}
      <p>
        <Link to="/forgot-password">{t('account.forgotLink')}</Link>
      </p>
      <p>
        {t('login.noAccount')} <Link to="/signup">{t('nav.signup')}</Link>
      </p>
    </section>
  );
}
