import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * The shortcut list, in a modal dialog (focus kept inside, Esc closes, focus goes back where it
 * was); loaded when `?` is first pressed.
 */
export default function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const keys = [
    ['j', t('shortcuts.next')],
    ['k', t('shortcuts.previous')],
    ['Enter', t('shortcuts.open')],
    ['r', t('shortcuts.react')],
    ['c', t('shortcuts.comment')],
    ['?', t('shortcuts.help')],
  ] as const;
  return (
    <dialog ref={dialog} aria-labelledby="shortcuts-title" className="dialog" onClose={onClose}>
      <h2 id="shortcuts-title">{t('shortcuts.title')}</h2>
      <dl className="shortcuts">
        {keys.map(([key, label]) => (
          <div key={key}>
            <dt>
              <kbd>{key}</kbd>
            </dt>
            <dd>{label}</dd>
          </div>
        ))}
      </dl>
      <form method="dialog">
        <button type="submit" className="button">
          {t('shortcuts.close')}
        </button>
      </form>
    </dialog>
  );
}
