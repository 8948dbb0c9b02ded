import { Link } from '@tanstack/react-router';
import { useId } from 'react';
import type { Me } from '../../auth/session.ts';
import { useTranslation } from '../../i18n/index.ts';

type Suspension = NonNullable<Me['suspension']>;

/** Inline (set through the DOM, which the CSP allows): a stylesheet would be one more file to load. */
const BOX = { margin: '0 0 1rem', background: 'var(--surface)' } as const;

/**
 * Shown above every screen while a moderator's suspension is in force: until when, the moderator's
 * reason (as text), and the decision's page to read and appeal it. Writes are refused by the server
 * meanwhile (their forms show its message); the banner says why before anyone tries.
 */
export function SuspendedBanner({ suspension }: { suspension: Suspension }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const until = new Intl.DateTimeFormat(i18n.language === 'pseudo' ? 'en' : i18n.language, {
    dateStyle: 'long',
    timeStyle: 'short',
  }).format(new Date(suspension.until));
  const linkText =
    suspension.appeal === 'available'
      ? t('account.suspended.appeal')
      : suspension.appeal === 'pending'
        ? t('account.suspended.pending')
        : t('account.suspended.decided');
  return (
    <section className="notice suspended-banner" style={BOX} role="status" aria-labelledby={`${id}-title`}>
      <p>
        <strong id={`${id}-title`}>{t('account.suspended.label')}</strong>
      </p>
      <p>{t('account.suspended.text', { until })}</p>
      {suspension.reason && <p>{t('account.suspended.reason', { reason: suspension.reason })}</p>}
      {suspension.caseId && (
        <p>
          <Link to="/moderation/notices/$caseId" params={{ caseId: suspension.caseId }}>
            {linkText}
          </Link>
        </p>
      )}
    </section>
  );
}
