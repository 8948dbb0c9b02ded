import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { createPasskey, isPasskeyCancel, passkeysSupported } from '../../auth/passkeys.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { ConfirmButton } from '../profile/confirm-button.tsx';
import { type Passkey, passkeysQuery, twoFactorQuery } from './two-factor-query.ts';

/** Passkeys: add (the browser's own prompt), list, rename, remove. */
export function PasskeysPanel() {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const passkeys = useQuery(passkeysQuery);
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: passkeysQuery.queryKey });
    void queryClient.invalidateQueries({ queryKey: twoFactorQuery.queryKey });
  };
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const add = useMutation({
    mutationFn: async () => {
      const { challengeId, options } = await call(
        api.POST('/api/v1/auth/passkeys/registration-options', { body: { password } }),
      );
      const response = await createPasskey(options);
      const label = name.trim() || t('twoFactor.security.defaultName');
      return call(api.POST('/api/v1/auth/passkeys', { body: { challengeId, name: label, response } }));
    },
    onSuccess: () => {
      setName('');
      setPassword('');
      refresh();
    },
  });
  return (
    <div className="stack">
      <h3 id={`${id}-title`}>{t('twoFactor.security.passkeysTitle')}</h3>
      <p>{t('twoFactor.security.passkeysIntro')}</p>
      {passkeys.isPending ? (
        <Loading />
      ) : passkeys.isError ? (
        <ErrorMessage error={passkeys.error} onRetry={() => void passkeys.refetch()} />
      ) : passkeys.data.items.length === 0 ? (
        <p className="muted">{t('twoFactor.security.passkeysEmpty')}</p>
      ) : (
        <ul className="people" aria-labelledby={`${id}-title`}>
          {passkeys.data.items.map((p) => (
            <PasskeyItem key={p.id} passkey={p} onChanged={refresh} />
          ))}
        </ul>
      )}
      {passkeysSupported() ? (
        <form
          className="stack"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (password) add.mutate();
          }}
        >
          <div className="field">
            <label htmlFor={`${id}-name`}>{t('twoFactor.security.passkeyName')}</label>
            <input
              id={`${id}-name`}
              maxLength={64}
              placeholder={t('twoFactor.security.defaultName')}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>{t('twoFactor.security.password')}</label>
            <input
              id={`${id}-password`}
              name="passkey-password"
              type="password"
              autoComplete="current-password"
              value={password}
              aria-describedby={`${id}-password-hint`}
              onChange={(e) => setPassword(e.target.value)}
            />
            <p className="hint" id={`${id}-password-hint`}>
              {t('twoFactor.security.passwordHint')}
            </p>
          </div>
          {add.isError &&
            (isPasskeyCancel(add.error) ? (
              <p role="alert">{t('twoFactor.passkeyCancelled')}</p>
            ) : (
              <ErrorMessage error={add.error} />
            ))}
          <button type="submit" className="button primary" disabled={!password || add.isPending}>
            {add.isPending ? t('twoFactor.security.adding') : t('twoFactor.security.addPasskey')}
          </button>
        </form>
      ) : (
        <p className="muted">{t('twoFactor.security.unsupported')}</p>
      )}
    </div>
  );
}

function PasskeyItem({ passkey, onChanged }: { passkey: Passkey; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(passkey.name);
  const rename = useMutation({
    mutationFn: () =>
      call(
        api.PATCH('/api/v1/auth/passkeys/{id}', {
          params: { path: { id: passkey.id } },
          body: { name: name.trim() },
        }),
      ),
    onSuccess: () => {
      setEditing(false);
      onChanged();
    },
  });
  const remove = useMutation({
    mutationFn: () =>
      call(api.DELETE('/api/v1/auth/passkeys/{id}', { params: { path: { id: passkey.id } } })),
    onSuccess: onChanged,
  });
  const date = (iso: string) =>
    new Intl.DateTimeFormat(i18n.language === 'pseudo' ? 'en' : i18n.language, {
      dateStyle: 'medium',
    }).format(new Date(iso));
  return (
    <li className="stack">
      {editing ? (
        <form
          className="row"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) rename.mutate();
          }}
        >
          <label htmlFor={`${id}-name`} className="visually-hidden">
            {t('twoFactor.security.renameName', { name: passkey.name })}
          </label>
          <input id={`${id}-name`} maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit" className="button primary" disabled={!name.trim() || rename.isPending}>
            {t('twoFactor.security.save')}
          </button>
          <button type="button" className="button" onClick={() => setEditing(false)}>
            {t('twoFactor.security.cancel')}
          </button>
        </form>
      ) : (
        <p>
          <strong>{passkey.name}</strong>{' '}
          <span className="muted small">
            {t('twoFactor.security.added', { date: date(passkey.createdAt) })} ·{' '}
            {passkey.lastUsedAt
              ? t('twoFactor.security.lastUsed', { date: date(passkey.lastUsedAt) })
              : t('twoFactor.security.neverUsed')}
          </span>
        </p>
      )}
      {rename.isError && <ErrorMessage error={rename.error} />}
      {remove.isError && <ErrorMessage error={remove.error} />}
      {!editing && (
        <div className="row">
          <button
            type="button"
            className="button"
            aria-label={t('twoFactor.security.renameName', { name: passkey.name })}
            onClick={() => setEditing(true)}
          >
            {t('twoFactor.security.rename')}
          </button>
          <ConfirmButton
            label={t('twoFactor.security.removeName', { name: passkey.name })}
            question={t('twoFactor.security.removeQuestion')}
            confirmLabel={t('twoFactor.security.removeConfirm')}
            busy={remove.isPending}
            onConfirm={() => remove.mutate()}
          />
        </div>
      )}
    </li>
  );
}
