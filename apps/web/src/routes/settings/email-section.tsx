import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useSyncExternalStore } from 'react';
import { api, call } from '../../api/client.ts';
import type { AuthSession } from '../../auth/session.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';

/**
 * My e-mail address and whether it is confirmed; changing it sends a link to the new address (the
 * change happens when it is opened) and the current password is asked again.
 */
export function EmailSection({ session }: { session: AuthSession }) {
  const { t } = useTranslation();
  const id = useId();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  // the server's current view (a change confirmed in another tab shows here), kept in the session
  // (the key of account-query.ts's meQuery, written out: importing it would split off one more chunk)
  const fresh = useQuery({
    queryKey: ['me'],
    queryFn: ({ signal }) => call(api.GET('/api/v1/me', { signal })),
  });
  useEffect(() => {
    if (fresh.data) session.updateUser(fresh.data);
  }, [fresh.data, session]);
  const user = state.status === 'signedIn' ? state.user : fresh.data;
  const change = useMutation({
    mutationFn: (body: { email: string; password: string }) =>
      call(api.POST('/api/v1/auth/email-change', { body })).then(() => body.email),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (email && password) change.mutate({ email, password });
  };
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('account.email.title')}</h2>
      {user && (
        <dl className="email-current">
          <dt>{t('account.email.current')}</dt>
          <dd>
            <span data-testid="current-email">{user.email}</span>{' '}
            <span className={user.emailVerified ? 'email-state ok' : 'email-state'}>
              ({user.emailVerified ? t('account.email.verified') : t('account.email.unverified')})
            </span>
          </dd>
        </dl>
      )}
      {change.isSuccess ? (
        <div className="stack">
          <h3>{t('account.email.sentTitle')}</h3>
          <p role="status">{t('account.email.sent', { email: change.data, current: user?.email ?? '' })}</p>
          <div className="row">
            <button type="button" className="button" onClick={() => change.reset()}>
              {t('account.email.changeAgain')}
            </button>
          </div>
        </div>
      ) : (
        <form className="stack" onSubmit={submit}>
          <h3>{t('account.email.changeTitle')}</h3>
          <div className="field">
            <label htmlFor={`${id}-email`}>{t('account.email.newEmail')}</label>
            <input
              id={`${id}-email`}
              name="email"
              type="email"
              autoComplete="email"
              required
              maxLength={254}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>{t('account.email.password')}</label>
            <input
              id={`${id}-password`}
              name="password"
              type="password"
              autoComplete="current-password"
              required
              maxLength={256}
            />
          </div>
          {change.error && <ErrorMessage error={change.error} />}
          <div className="row">
            <button type="submit" className="button primary" disabled={change.isPending}>
              {change.isPending ? t('account.email.submitting') : t('account.email.submit')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
