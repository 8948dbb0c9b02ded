import { useMutation, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { proofOf, type TwoFactorStatus, twoFactorQuery } from './two-factor-query.ts';

const QrCode = lazy(() => import('./qr-code.tsx'));

/** The authenticator app: set up (QR code, key, confirm), recovery codes shown once, turn off. */
export function TotpPanel({ status }: { status: TwoFactorStatus }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: twoFactorQuery.queryKey });
  const [codes, setCodes] = useState<string[]>();
  const [setupPassword, setSetupPassword] = useState('');
  const setup = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/2fa/totp', { body: { password: setupPassword } })),
    onSuccess: () => setSetupPassword(''),
  });
  const [confirmCode, setConfirmCode] = useState('');
  const confirm = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/2fa/totp/confirm', { body: { code: confirmCode } })),
    onSuccess: (result) => {
      setCodes(result.recoveryCodes);
      setup.reset();
      setConfirmCode('');
      void refresh();
    },
  });
  const [regenCode, setRegenCode] = useState('');
  const regenerate = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/2fa/recovery-codes', { body: proofOf(regenCode) })),
    onSuccess: (result) => {
      setCodes(result.recoveryCodes);
      setRegenCode('');
      void refresh();
    },
  });
  const [password, setPassword] = useState('');
  const [disableCode, setDisableCode] = useState('');
  const disable = useMutation({
    mutationFn: () =>
      call(api.POST('/api/v1/auth/2fa/disable', { body: { password, ...proofOf(disableCode) } })),
    onSuccess: () => {
      setPassword('');
      setDisableCode('');
      setCodes(undefined);
      void refresh();
    },
  });
  const date = (iso: string) =>
    new Intl.DateTimeFormat(i18n.language === 'pseudo' ? 'en' : i18n.language, {
      dateStyle: 'medium',
    }).format(new Date(iso));

  if (codes) {
    return (
      <div className="stack">
        <h3 id={`${id}-codes`}>{t('twoFactor.security.codesTitle')}</h3>
        <p>{t('twoFactor.security.codesIntro')}</p>
        <ol className="recovery-codes" aria-label={t('twoFactor.security.codesTitle')}>
          {codes.map((code) => (
            <li key={code}>
              <code>{code}</code>
            </li>
          ))}
        </ol>
        <button type="button" className="button primary" onClick={() => setCodes(undefined)}>
          {t('twoFactor.security.codesSaved')}
        </button>
      </div>
    );
  }

  if (!status.totpEnabled) {
    const pending = setup.data;
    return (
      <div className="stack">
        <h3>{t('twoFactor.security.appTitle')}</h3>
        <p>{t('twoFactor.security.appOff')}</p>
        {!pending ? (
          <form
            className="stack"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              if (setupPassword) setup.mutate();
            }}
          >
            <div className="field">
              <label htmlFor={`${id}-setup-password`}>{t('twoFactor.security.password')}</label>
              <input
                id={`${id}-setup-password`}
                name="setup-password"
                type="password"
                autoComplete="current-password"
                value={setupPassword}
                aria-describedby={`${id}-setup-hint`}
                onChange={(e) => setSetupPassword(e.target.value)}
              />
              <p className="hint" id={`${id}-setup-hint`}>
                {t('twoFactor.security.passwordHint')}
              </p>
            </div>
            {setup.isError && <ErrorMessage error={setup.error} />}
            <button type="submit" className="button primary" disabled={!setupPassword || setup.isPending}>
              {t('twoFactor.security.setUp')}
            </button>
          </form>
        ) : (
          <form
            className="stack"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              if (/^\d{6}$/.test(confirmCode)) confirm.mutate();
            }}
          >
            <p id={`${id}-scan`}>{t('twoFactor.security.scan')}</p>
            <Suspense fallback={<Loading />}>
              <QrCode text={pending.uri} label={t('twoFactor.security.qrLabel')} />
            </Suspense>
            <p>
              {t('twoFactor.security.secretLabel')}{' '}
              <code className="totp-secret" data-testid="totp-secret">
                {pending.secret}
              </code>
            </p>
            <div className="field">
              <label htmlFor={`${id}-confirm`}>{t('twoFactor.security.confirmCode')}</label>
              <input
                id={`${id}-confirm`}
                name="code"
                autoComplete="one-time-code"
                inputMode="numeric"
                maxLength={6}
                value={confirmCode}
                aria-describedby={`${id}-scan`}
                onChange={(e) => setConfirmCode(e.target.value.replace(/\D/g, ''))}
              />
            </div>
            {confirm.isError && <ErrorMessage error={confirm.error} />}
            <div className="row">
              <button
                type="submit"
                className="button primary"
                disabled={!/^\d{6}$/.test(confirmCode) || confirm.isPending}
              >
                {confirm.isPending ? t('twoFactor.security.confirming') : t('twoFactor.security.confirm')}
              </button>
              <button type="button" className="button" onClick={() => setup.reset()}>
                {t('twoFactor.security.cancel')}
              </button>
            </div>
          </form>
        )}
      </div>
    );
  }

  return (
    <div className="stack">
      <h3>{t('twoFactor.security.appTitle')}</h3>
      <p role="status">
        {t('twoFactor.security.appOn', { date: date(status.totpEnabledAt ?? new Date().toISOString()) })}{' '}
        {t('twoFactor.security.codesLeft', { count: status.recoveryCodesLeft })}
      </p>
      {status.lockedUntil && (
        <p className="notice">{t('twoFactor.security.locked', { date: date(status.lockedUntil) })}</p>
      )}
      <form
        className="stack"
        noValidate
        aria-labelledby={`${id}-regen`}
        onSubmit={(e) => {
          e.preventDefault();
          if (regenCode.trim()) regenerate.mutate();
        }}
      >
        <h4 id={`${id}-regen`}>{t('twoFactor.security.regenerateTitle')}</h4>
        <div className="field">
          <label htmlFor={`${id}-regen-code`}>{t('twoFactor.security.anyCode')}</label>
          <input
            id={`${id}-regen-code`}
            autoComplete="one-time-code"
            maxLength={40}
            value={regenCode}
            onChange={(e) => setRegenCode(e.target.value)}
          />
        </div>
        {regenerate.isError && <ErrorMessage error={regenerate.error} />}
        <button type="submit" className="button" disabled={!regenCode.trim() || regenerate.isPending}>
          {t('twoFactor.security.regenerate')}
        </button>
      </form>
      <form
        className="stack"
        noValidate
        aria-labelledby={`${id}-disable`}
        onSubmit={(e) => {
          e.preventDefault();
          if (password && disableCode.trim()) disable.mutate();
        }}
      >
        <h4 id={`${id}-disable`}>{t('twoFactor.security.disableTitle')}</h4>
        <p>{t('twoFactor.security.disableIntro')}</p>
        <div className="field">
          <label htmlFor={`${id}-password`}>{t('twoFactor.security.password')}</label>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-disable-code`}>{t('twoFactor.security.anyCode')}</label>
          <input
            id={`${id}-disable-code`}
            autoComplete="one-time-code"
            maxLength={40}
            value={disableCode}
            onChange={(e) => setDisableCode(e.target.value)}
          />
        </div>
        {disable.isError && <ErrorMessage error={disable.error} />}
        <button
          type="submit"
          className="button danger"
          disabled={!password || !disableCode.trim() || disable.isPending}
        >
          {t('twoFactor.security.disable')}
        </button>
      </form>
    </div>
  );
}
