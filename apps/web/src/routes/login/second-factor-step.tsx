import type { paths } from '@kith/contract';
import { useMutation } from '@tanstack/react-query';
import { useCallback, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type ResponseOf } from '../../api/client.ts';
import { ApiError } from '../../api/errors.ts';
import { isPasskeyCancel, signWithPasskey } from '../../auth/passkeys.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';

/** The 202 answer of the password step when 2FA is on. */
export type Challenge = paths['/api/v1/auth/login']['post']['responses'][202]['content']['application/json'];
type SignedIn = ResponseOf<'/api/v1/auth/login/second-factor', 'post'>;

/**
 * The second step of a sign-in with 2FA on: a code from the authenticator app, a recovery code, or
 * a passkey. No session exists until this step succeeds; an expired step starts over.
 */
export function SecondFactorStep({
  challenge,
  onSignedIn,
  onRestart,
}: {
  challenge: Challenge;
  onSignedIn: (result: SignedIn) => void;
  onRestart: () => void;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [mode, setMode] = useState<'totp' | 'recovery_code'>('totp');
  const [value, setValue] = useState('');
  // the field takes the focus when the step appears and when the kind of code changes (key={mode})
  const focusOnMount = useCallback((input: HTMLInputElement | null) => input?.focus(), []);
  const verify = useMutation({
    mutationFn: async (proof: { code: string } | { recoveryCode: string } | 'passkey') => {
      const { challengeToken } = challenge;
      if (proof === 'passkey') {
        const options = await call(
          api.POST('/api/v1/auth/login/second-factor/passkey-options', { body: { challengeToken } }),
        );
        const passkey = await signWithPasskey(options);
        return call(api.POST('/api/v1/auth/login/second-factor', { body: { challengeToken, passkey } }));
      }
      return call(api.POST('/api/v1/auth/login/second-factor', { body: { challengeToken, ...proof } }));
    },
    onSuccess: onSignedIn,
    onError: () => setValue(''),
  });
  const expired = verify.error instanceof ApiError && verify.error.code === 'INVALID_CHALLENGE';
  const ready = mode === 'totp' ? /^\d{6}$/.test(value) : value.trim().length >= 16;
  return (
    <section className="page narrow" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{t('twoFactor.login.title')}</h1>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!ready) return;
          verify.mutate(mode === 'totp' ? { code: value } : { recoveryCode: value.trim() });
        }}
      >
        <p id={`${id}-intro`}>
          {mode === 'totp' ? t('twoFactor.login.codeIntro') : t('twoFactor.login.recoveryIntro')}
        </p>
        <div className="field">
          <label htmlFor={`${id}-code`}>
            {mode === 'totp' ? t('twoFactor.login.code') : t('twoFactor.login.recoveryCode')}
          </label>
          <input
            key={mode}
            ref={focusOnMount}
            id={`${id}-code`}
            name={mode === 'totp' ? 'code' : 'recoveryCode'}
            aria-describedby={`${id}-intro`}
            autoComplete="one-time-code"
            inputMode={mode === 'totp' ? 'numeric' : 'text'}
            maxLength={mode === 'totp' ? 6 : 40}
            spellCheck={false}
            value={value}
            onChange={(e) => setValue(mode === 'totp' ? e.target.value.replace(/\D/g, '') : e.target.value)}
          />
        </div>
        {verify.error &&
          (isPasskeyCancel(verify.error) ? (
            <p role="alert">{t('twoFactor.passkeyCancelled')}</p>
          ) : (
            <ErrorMessage error={verify.error} />
          ))}
        <button type="submit" className="button primary" disabled={!ready || verify.isPending || expired}>
          {verify.isPending ? t('twoFactor.login.verifying') : t('twoFactor.login.verify')}
        </button>
      </form>
      <div className="stack">
        <button
          type="button"
          className="button"
          onClick={() => {
            setValue('');
            verify.reset();
            setMode(mode === 'totp' ? 'recovery_code' : 'totp');
          }}
        >
          {mode === 'totp' ? t('twoFactor.login.useRecovery') : t('twoFactor.login.useCode')}
        </button>
        {challenge.methods.includes('passkey') && (
          <button
            type="button"
            className="button"
            disabled={verify.isPending || expired}
            onClick={() => verify.mutate('passkey')}
          >
            {t('twoFactor.login.usePasskey')}
          </button>
        )}
        <button type="button" className="button" onClick={onRestart}>
          {t('twoFactor.login.restart')}
        </button>
      </div>
    </section>
  );
}
