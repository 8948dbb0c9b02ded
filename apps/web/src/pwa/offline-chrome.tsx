import { useEffect, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { session } from '../auth/session.ts';
import { OutboxPanel } from '../outbox/outbox-panel.tsx';
import { updateState } from './update-state.ts';
import './offline.css';

/** The shell's offline parts (a lazy chunk): the update prompt, the offline notice, the outbox. */
export default function OfflineChrome() {
  const state = useSyncExternalStore(session.subscribe, session.getState);
  return (
    <div className="offline-chrome">
      <UpdatePrompt />
      <OfflineNotice />
      {state.status === 'signedIn' && <OutboxPanel />}
    </div>
  );
}

/** A new version is installed and waiting: the person chooses when to reload into it. */
function UpdatePrompt() {
  const { t } = useTranslation();
  const apply = useSyncExternalStore(updateState.subscribe, updateState.get);
  const [busy, setBusy] = useState(false);
  return (
    // the live region exists before its text, so screen readers announce the text when it comes
    <div role="status" className={apply ? 'update-prompt' : undefined}>
      {apply && (
        <>
          <p>{t('offline.update.available')}</p>
          <div className="row">
            <button
              type="button"
              className="button primary"
              disabled={busy}
              onClick={() => {
                setBusy(true);
                void apply().finally(() => setBusy(false));
              }}
            >
              {t('offline.update.reload')}
            </button>
            <button type="button" className="button ghost" onClick={() => updateState.dismiss()}>
              {t('offline.update.later')}
            </button>
          </div>
        </>
      )}
    </div>
  );
}

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online;
}

function OfflineNotice() {
  const { t } = useTranslation();
  const online = useOnline();
  return (
    <div role="status" className={online ? undefined : 'offline-notice'} data-offline={!online || undefined}>
      {!online && <p>{t('offline.notice')}</p>}
    </div>
  );
}
