import { useTranslation } from 'react-i18next';
import { useConnectionState } from './use-realtime.ts';
import './realtime.css';

/** The socket's state in the top bar; changes are announced politely (aria-live). */
export default function ConnectionStatusBadge() {
  const { t } = useTranslation();
  const state = useConnectionState();
  return (
    <span className="connection-status" data-state={state ?? 'none'} role="status" aria-live="polite">
      {state && (
        <>
          <span className="connection-dot" aria-hidden="true" />
          {t(`chat.connection.${state}`)}
        </>
      )}
    </span>
  );
}
