import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * A button for an action that is hard to undo: the first press asks (the question is read out and
 * focus moves to "confirm"), the second does it; "keep" or Esc goes back to the first button.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  busy,
  onConfirm,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  busy: boolean;
  onConfirm: () => void;
}) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (wasAsking.current) openerRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button
        ref={openerRef}
        type="button"
        className="button"
        disabled={busy}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') setAsking(false);
  };
  return (
    <fieldset className="confirm">
      <legend>{question}</legend>
      <button
        ref={confirmRef}
        type="button"
        className="button danger"
        disabled={busy}
        onKeyDown={onKeyDown}
        onClick={() => {
          onConfirm();
          setAsking(false);
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button ghost" onKeyDown={onKeyDown} onClick={() => setAsking(false)}>
        {t('profile.keep')}
      </button>
    </fieldset>
  );
}
