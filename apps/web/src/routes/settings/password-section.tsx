import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { sessionsQuery } from './settings-query.ts';

const MIN_LENGTH = 10;

/** Change my password: every other session is signed out by the server. */
export function PasswordSection() {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const change = useMutation({
    mutationFn: () =>
      call(api.POST('/api/v1/auth/password', { body: { currentPassword: current, newPassword: next } })),
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setConfirm('');
      void queryClient.invalidateQueries({ queryKey: sessionsQuery.queryKey });
    },
  });
  const tooShort = next.length > 0 && next.length < MIN_LENGTH;
  const mismatch = confirm.length > 0 && confirm !== next;
  const ready = current !== '' && next.length >= MIN_LENGTH && confirm === next;
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('settings.password.title')}</h2>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) change.mutate();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-current`}>{t('settings.password.current')}</label>
          <input
            id={`${id}-current`}
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-new`}>{t('settings.password.new')}</label>
          <input
            id={`${id}-new`}
            type="password"
            autoComplete="new-password"
            value={next}
            aria-invalid={tooShort}
            aria-describedby={`${id}-new-hint`}
            onChange={(e) => setNext(e.target.value)}
          />
          <p className="hint" id={`${id}-new-hint`}>
            {t('settings.password.rule', { min: MIN_LENGTH })}
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-confirm`}>{t('settings.password.confirm')}</label>
          <input
            id={`${id}-confirm`}
            type="password"
            autoComplete="new-password"
            value={confirm}
            aria-invalid={mismatch}
            aria-describedby={mismatch ? `${id}-mismatch` : undefined}
            onChange={(e) => setConfirm(e.target.value)}
          />
          {mismatch && (
            <p className="hint" id={`${id}-mismatch`}>
              {t('settings.password.mismatch')}
            </p>
          )}
        </div>
        {change.isError && <ErrorMessage error={change.error} />}
        <div className="row">
          <button type="submit" className="button primary" disabled={!ready || change.isPending}>
            {change.isPending ? t('settings.password.saving') : t('settings.password.submit')}
          </button>
          <p role="status">{change.isSuccess ? t('settings.password.done') : ''}</p>
        </div>
      </form>
    </section>
  );
}
