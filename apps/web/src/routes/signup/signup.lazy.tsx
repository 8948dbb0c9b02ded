import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type BodyOf, call } from '../../api/client.ts';
import { session } from '../../auth/session.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { checkPassword, PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN } from './password-rules.ts';

export const Route = createLazyRoute('/signup')({ component: SignupScreen });

type SignupBody = BodyOf<'/api/v1/auth/signup', 'post'>;

function SignupScreen() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const ids = { username: useId(), email: useId(), password: useId(), displayName: useId(), rules: useId() };
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const rules = checkPassword(password, username);
  const usernameValid = USERNAME_PATTERN.test(username);
  const signup = useMutation({
    mutationFn: (body: SignupBody) => call(api.POST('/api/v1/auth/signup', { body })),
    onSuccess: (result) => {
      session.signedIn(result);
      void navigate({ to: '/' });
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setTouched(true);
    if (!usernameValid || !rules.longEnough || !rules.notTooLong || !rules.notUsername) return;
    const form = new FormData(event.currentTarget);
    const displayName = String(form.get('displayName') ?? '').trim();
    signup.mutate({
      username,
      email: String(form.get('email') ?? ''),
      password,
      ...(displayName ? { displayName } : {}),
    });
  };
  const rule = (met: boolean, text: string) => (
    <li className={met ? 'rule met' : 'rule'}>
      <span aria-hidden="true">{met ? '✓' : '•'}</span> {text}{' '}
      <span className="visually-hidden">{met ? t('signup.ruleMet') : t('signup.ruleNotMet')}</span>
    </li>
  );
  return (
    <section className="page narrow">
      <h1>{t('signup.title')}</h1>
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={ids.username}>{t('signup.username')}</label>
          <input
            id={ids.username}
            name="username"
            autoComplete="username"
            required
            maxLength={30}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={touched && !usernameValid}
            aria-describedby={`${ids.username}-hint`}
          />
          <p id={`${ids.username}-hint`} className="hint">
            {t('signup.usernameHint')}
          </p>
        </div>
        <div className="field">
          <label htmlFor={ids.email}>{t('signup.email')}</label>
          <input id={ids.email} name="email" type="email" autoComplete="email" required maxLength={254} />
        </div>
        <div className="field">
          <label htmlFor={ids.displayName}>{t('signup.displayName')}</label>
          <input id={ids.displayName} name="displayName" autoComplete="name" maxLength={64} />
        </div>
        <div className="field">
          <label htmlFor={ids.password}>{t('signup.password')}</label>
          <input
            id={ids.password}
            name="password"
            type="password"
            autoComplete="new-password"
            required
            maxLength={PASSWORD_MAX}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={touched && !(rules.longEnough && rules.notUsername)}
            aria-describedby={ids.rules}
          />
          <ul id={ids.rules} className="rules">
            {rule(rules.longEnough, t('signup.ruleLength', { min: PASSWORD_MIN }))}
            {rule(rules.notUsername, t('signup.ruleNotUsername'))}
            <li className="rule">
              <span aria-hidden="true">•</span> {t('signup.ruleCommon')}
            </li>
          </ul>
        </div>
        {touched && !usernameValid && (
          <p className="error" role="alert">
            {t('signup.usernameInvalid')}
          </p>
        )}
        {signup.error && <ErrorMessage error={signup.error} />}
        <button type="submit" className="button primary" disabled={signup.isPending}>
          {signup.isPending ? t('signup.submitting') : t('signup.submit')}
        </button>
      </form>
      <p>
        {t('signup.haveAccount')} <Link to="/login">{t('nav.login')}</Link>
      </p>
    </section>
  );
}
