import { useTranslation } from 'react-i18next';
import { useConnectionState } from './use-realtime.ts';
import './realtime.css';

/** Whether this tab has been live once: before that, "reconnecting" is the first connection. */
let seenLive = false;

const LABELS = ['live', 'connecting', 'reconnecting', 'offline'] as const;

/**
 * The socket's state in the top bar; changes are announced politely (aria-live). Every label is
 * laid out in the same grid cell and only the current one is visible, so the badge is as wide as
 * its longest label in any language and never moves the top bar when the state changes.
 */
export default function ConnectionStatusBadge() {
  const { t } = useTranslation();
  const state = useConnectionState();
  if (state === 'live') seenLive = true;
  const label = state === 'reconnecting' && !seenLive ? 'connecting' : state;
  return (
    <span className="connection-status" data-state={state ?? 'none'} role="status" aria-live="polite">
      <span className="connection-dot" aria-hidden="true" hidden={!label} />
      <span className="connection-labels">
        {LABELS.map((name) => (
          <span key={name} className={name === label ? undefined : 'connection-label-spacer'}>
            {t(`chat.connection.${name}`)}
          </span>
        ))}
      </span>
    </span>
  );
}
