import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { PasskeysPanel } from './passkeys-panel.tsx';
import { TotpPanel } from './totp-panel.tsx';
import { twoFactorQuery } from './two-factor-query.ts';
import './security.css';

/** Settings → security: two-step verification with an authenticator app, and passkeys. */
export function SecuritySection() {
  const { t } = useTranslation();
  const id = useId();
  const status = useQuery(twoFactorQuery);
  return (
    <section className="settings-section" id="security" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('twoFactor.security.title')}</h2>
      {status.isPending ? (
        <Loading />
      ) : status.isError ? (
        <ErrorMessage error={status.error} onRetry={() => void status.refetch()} />
      ) : (
        <>
          <TotpPanel status={status.data} />
          <PasskeysPanel />
        </>
      )}
    </section>
  );
}
