import { useMutation } from '@tanstack/react-query';
import { createLazyRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type BodyOf, call } from '../../api/client.ts';
import { session } from '../../auth/session.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { NewPasswordFields, useNewPassword } from '../../ui/password/new-password-fields.tsx';
import { USERNAME_PATTERN } from '../../ui/password/password-rules.ts';

export const Route = createLazyRoute('/signup')({ component: SignupScreen });

type SignupBody = BodyOf<'/api/v1/auth/signup', 'post'>;

function SignupScreen() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const ids = { username: useId(), email: useId(), displayName: useId() };
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const newPassword = useNewPassword(password, { username });
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
    if (!usernameValid || !newPassword.acceptable) return;
    const form = new FormData(event.currentTarget);
    const displayName = String(form.get('displayName') ?? '').trim();
    signup.mutate({
      username,
      email: String(form.get('email') ?? ''),
      password,
      ...(displayName ? { displayName } : {}),
    });
  };
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
        <NewPasswordFields
          label={t('signup.password')}
          password={password}
          onPassword={setPassword}
          username={username}
          touched={touched}
        />
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
