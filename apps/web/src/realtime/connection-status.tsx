import { useTranslation } from 'react-i18next';
import { useConnectionState } from './use-realtime.ts';
import './realtime.css';

/** Whether this tab has been live once: before that, "reconnecting" is the first connection. */
let seenLive = false;

/** The socket's state in the top bar; changes are announced politely (aria-live). */
export default function ConnectionStatusBadge() {
  const { t } = useTranslation();
  const state = useConnectionState();
  if (state === 'live') seenLive = true;
  const label = state === 'reconnecting' && !seenLive ? 'connecting' : state;
  return (
    <span className="connection-status" data-state={state ?? 'none'} role="status" aria-live="polite">
      {label && (
        <>
          <span className="connection-dot" aria-hidden="true" />
          {t(`chat.connection.${label}`)}
        </>
      )}
    </span>
  );
}
