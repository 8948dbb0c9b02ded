import { useMutation } from '@tanstack/react-query';
import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { ErrorMessage } from '../error-message.tsx';
import { REPORT_REASONS, type ReportReason, type ReportTarget } from './reasons.ts';
import './report.css';

const NOTE_MAX = 1000;
const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * The report dialog: a reason (radio group), an optional note, send. A modal `<dialog>`
 * (`showModal()`: the page behind is inert), with Tab kept inside it, Esc to close, and focus back
 * on the button that opened it. Render it only while open.
 */
export function ReportDialog({
  target,
  onClose,
  returnFocus,
}: {
  target: ReportTarget;
  onClose: () => void;
  /** Where focus goes when the dialog closes (the button that opened it); else what had focus. */
  returnFocus?: HTMLElement | null | undefined;
}) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const noteId = useId();
  const noteHelpId = useId();
  const [reason, setReason] = useState<ReportReason | undefined>();
  const [note, setNote] = useState('');
  const [missingReason, setMissingReason] = useState(false);
  const close = useRef(onClose);
  close.current = onClose;
  const send = useMutation({
    mutationFn: (body: { reason: ReportReason; note: string }) =>
      call(
        api.POST('/api/v1/reports', {
          body: {
            targetType: target.type,
            targetId: target.id,
            reason: body.reason,
            ...(body.note.trim() ? { note: body.note } : {}),
          },
        }),
      ),
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener =
      returnFocus ?? (document.activeElement instanceof HTMLElement ? document.activeElement : null);
    dialog.showModal();
    const onNativeClose = () => close.current();
    dialog.addEventListener('close', onNativeClose);
    return () => {
      dialog.removeEventListener('close', onNativeClose);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, [returnFocus]);

  // once sent, the thank-you's Close button takes the focus
  const doneRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (send.isSuccess) doneRef.current?.focus();
  }, [send.isSuccess]);

  /** Tab and Shift+Tab cycle through the dialog's controls (the browser's chrome is not one of them). */
  const trapTab = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key !== 'Tab' || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
      (el) => el.offsetParent !== null || el === document.activeElement,
    );
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog ref={ref} className="report-dialog" aria-labelledby={titleId} onKeyDown={trapTab}>
      <div className="stack">
        <h2 id={titleId}>{t(`moderation.report.title.${target.type}`)}</h2>
        {send.isSuccess ? (
          <>
            <p role="status">
              {send.data.duplicate ? t('moderation.report.duplicate') : t('moderation.report.thanks')}
            </p>
            <div className="row">
              <button ref={doneRef} type="button" className="button primary" onClick={onClose}>
                {t('moderation.report.close')}
              </button>
            </div>
          </>
        ) : (
          <form
            className="stack"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              if (!reason) {
                setMissingReason(true);
                ref.current?.querySelector<HTMLInputElement>('input[name="reason"]')?.focus();
                return;
              }
              send.mutate({ reason, note });
            }}
          >
            <fieldset
              className="report-reasons"
              aria-describedby={missingReason ? `${titleId}-missing` : undefined}
            >
              <legend>{t('moderation.report.reasonLegend')}</legend>
              {REPORT_REASONS.map((r) => (
                <label key={r} className="report-reason">
                  <input
                    type="radio"
                    name="reason"
                    value={r}
                    checked={reason === r}
                    onChange={() => {
                      setReason(r);
                      setMissingReason(false);
                    }}
                  />
                  <span>
                    <strong>{t(`moderation.reason.${r}`)}</strong>
                    <span className="muted small">{t(`moderation.reasonHelp.${r}`)}</span>
                  </span>
                </label>
              ))}
              {missingReason && (
                <p id={`${titleId}-missing`} className="error" role="alert">
                  {t('moderation.report.pickReason')}
                </p>
              )}
            </fieldset>
            <div className="field">
              <label htmlFor={noteId}>{t('moderation.report.noteLabel')}</label>
              <textarea
                id={noteId}
                name="note"
                rows={4}
                maxLength={NOTE_MAX}
                value={note}
                aria-describedby={noteHelpId}
                onChange={(e) => setNote(e.target.value)}
              />
              <p id={noteHelpId} className="muted small">
                {t('moderation.report.noteHelp', { count: NOTE_MAX - note.length })}
              </p>
            </div>
            {send.error && <ErrorMessage error={send.error} />}
            <div className="row">
              <button type="submit" className="button primary" disabled={send.isPending}>
                {send.isPending ? t('moderation.report.sending') : t('moderation.report.send')}
              </button>
              <button type="button" className="button" onClick={onClose}>
                {t('moderation.report.cancel')}
              </button>
            </div>
          </form>
        )}
      </div>
    </dialog>
  );
}
