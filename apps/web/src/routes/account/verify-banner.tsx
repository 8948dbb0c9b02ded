import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, call } from '../../api/client.ts';
import type { Me } from '../../auth/session.ts';
import { useTranslation } from '../../i18n/index.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';

const DISMISSED = 'kith.verifyBanner.dismissed';
/** Inline (set through the DOM, which the CSP allows): a stylesheet would be one more file to load. */
const BOX = { margin: '0 0 1rem', background: 'var(--surface)' } as const;

function dismissedFor(userId: string): boolean {
  try {
    return globalThis.sessionStorage?.getItem(DISMISSED) === userId;
  } catch {
    return false;
  }
}

/**
 * Shown above every screen while my address is not confirmed: what is limited until then, and the
 * link sent again on request. Hidden for the rest of the browser session once dismissed; it goes by
 * itself when the session's user becomes verified (the verify page reads /me again).
 */
export function VerifyBanner({ user }: { user: Me }) {
  const { t } = useTranslation();
  const id = useId();
  const [dismissed, setDismissed] = useState(() => dismissedFor(user.id));
  const resend = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/verify-email/resend')),
  });
  if (dismissed || user.emailVerified) return null;
  return (
    <section className="notice verify-banner" style={BOX} aria-labelledby={`${id}-title`}>
      <p>
        <strong id={`${id}-title`}>{t('account.banner.label')}</strong>
      </p>
      <p>{t('account.banner.text', { email: user.email })}</p>
      <div className="row">
        <button
          type="button"
          className="button"
          disabled={resend.isPending || resend.isSuccess}
          onClick={() => resend.mutate()}
        >
          {resend.isPending ? t('account.banner.resending') : t('account.banner.resend')}
        </button>
        <button
          type="button"
          className="button ghost"
          onClick={() => {
            try {
              globalThis.sessionStorage?.setItem(DISMISSED, user.id);
            } catch {
              // storage refused (private mode): hidden until the next load
            }
            setDismissed(true);
          }}
        >
          {t('account.banner.dismiss')}
        </button>
      </div>
      <p role="status">{resend.isSuccess ? t('account.banner.resent', { email: user.email }) : ''}</p>
      {resend.error && <ErrorMessage error={resend.error} />}
    </section>
  );
}
