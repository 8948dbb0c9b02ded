import { type ReactNode, useEffect, useId, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import './dialog.css';

/**
 * A modal dialog on the native `<dialog>`: `showModal()` makes the rest of the page inert (focus
 * stays inside), Esc closes it, and focus goes back to what opened it. Render it only while open.
 */
export function Dialog({
  title,
  onClose,
  children,
  describedBy,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  describedBy?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // every supported browser has showModal; without it (an old engine, jsdom) the dialog still opens
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
    const onNativeClose = () => close.current();
    dialog.addEventListener('close', onNativeClose);
    return () => {
      dialog.removeEventListener('close', onNativeClose);
      if (dialog.open) dialog.close?.();
      // the opener may have gone (a deleted comment's button): then leave focus to the page
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} aria-describedby={describedBy}>
      <div className="stack">
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
    </dialog>
  );
}

/** "Are you sure?" for something that cannot be undone; the safe answer has the focus first. */
export function ConfirmDialog({
  title,
  question,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  title: string;
  question: string;
  confirmLabel: string;
  busy: boolean;
  error?: ReactNode;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const questionId = useId();
  return (
    <Dialog title={title} onClose={onClose} describedBy={questionId}>
      <p id={questionId}>{question}</p>
      {error}
      <div className="row">
        {/* first in the dialog, so showModal focuses it: Enter right away keeps things */}
        <button type="button" className="button" onClick={onClose}>
          {t('social.dialog.cancel')}
        </button>
        <button type="button" className="button danger" disabled={busy} onClick={onConfirm}>
          {busy ? t('social.dialog.working') : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** Edit a text (a post's or a comment's) in a dialog; the server's refusal is shown inside it. */
export function EditTextDialog({
  title,
  label,
  initial,
  maxLength,
  busy,
  error,
  onSave,
  onClose,
}: {
  title: string;
  label: string;
  initial: string;
  maxLength: number;
  busy: boolean;
  error?: ReactNode;
  onSave: (text: string) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const fieldId = useId();
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const text = new FormData(e.currentTarget).get('text');
          if (typeof text === 'string' && text.trim()) onSave(text);
        }}
      >
        <div className="field">
          <label htmlFor={fieldId}>{label}</label>
          <textarea
            id={fieldId}
            name="text"
            rows={5}
            required
            maxLength={maxLength}
            defaultValue={initial}
            autoFocus
          />
        </div>
        {error}
        <div className="row">
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? t('social.dialog.saving') : t('social.dialog.save')}
          </button>
          <button type="button" className="button" onClick={onClose}>
            {t('social.dialog.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
