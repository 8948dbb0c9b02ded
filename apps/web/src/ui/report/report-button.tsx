import { lazy, Suspense, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { session } from '../../auth/session.ts';
import type { ReportTarget } from './reasons.ts';

// the dialog (and its strings' use) loads only when someone opens it
const ReportDialog = lazy(() => import('./report-dialog.tsx').then((m) => ({ default: m.ReportDialog })));

/**
 * "Report" for a post, comment, chat message or profile: opens the report dialog. Shown only to a
 * signed-in user who is not the author (`authorId`); `label` names what is reported for screen
 * readers ("Report Ana's post").
 */
export function ReportButton({
  target,
  authorId,
  label,
  className = 'button ghost small',
}: {
  target: ReportTarget;
  authorId: string | null | undefined;
  label: string;
  className?: string;
}) {
  const { t } = useTranslation();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  if (state.status !== 'signedIn' || state.user.id === authorId) return null;
  return (
    <>
      <button
        ref={button}
        type="button"
        className={className}
        aria-haspopup="dialog"
        aria-label={label}
        onClick={() => setOpen(true)}
      >
        {t('moderation.report.open')}
      </button>
      {open && (
        <Suspense fallback={null}>
          <ReportDialog target={target} returnFocus={button.current} onClose={() => setOpen(false)} />
        </Suspense>
      )}
    </>
  );
}
