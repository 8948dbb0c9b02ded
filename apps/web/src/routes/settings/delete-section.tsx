import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import type { AuthSession } from '../../auth/session.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';

/** Delete my account: what happens and when, the password again and an explicit confirmation. */
export function DeleteAccountSection({ session }: { session: AuthSession }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const [password, setPassword] = useState('');
  const [understood, setUnderstood] = useState(false);
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/me', { body: { password } })),
  });
  const locale = i18n.language === 'pseudo' ? 'en' : i18n.language;
  if (remove.isSuccess) {
    return (
      <section className="settings-section" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>{t('settings.delete.title')}</h2>
        <p role="status">
          {t('settings.delete.done', {
            date: new Intl.DateTimeFormat(locale, { dateStyle: 'long' }).format(
              Date.parse(remove.data.eraseAfter),
            ),
          })}
        </p>
        <button type="button" className="button primary" onClick={() => void session.signOut()}>
          {t('settings.delete.finish')}
        </button>
      </section>
    );
  }
  return (
    <section className="settings-section danger-zone" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('settings.delete.title')}</h2>
      <ul>
        <li>{t('settings.delete.now')}</li>
        <li>{t('settings.delete.later')}</li>
        <li>{t('settings.delete.kept')}</li>
        <li>{t('settings.delete.exportFirst')}</li>
      </ul>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (password && understood) remove.mutate();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-password`}>{t('settings.delete.password')}</label>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <div className="checkbox">
          <input
            id={`${id}-understood`}
            type="checkbox"
            checked={understood}
            onChange={(e) => setUnderstood(e.target.checked)}
          />
          <label htmlFor={`${id}-understood`}>{t('settings.delete.understood')}</label>
        </div>
        {remove.isError && <ErrorMessage error={remove.error} />}
        <div>
          <button
            type="submit"
            className="button danger"
            disabled={!password || !understood || remove.isPending}
          >
            {remove.isPending ? t('settings.delete.deleting') : t('settings.delete.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
