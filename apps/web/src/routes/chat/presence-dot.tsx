import { useTranslation } from 'react-i18next';
import { useChatStore } from '../../realtime/use-realtime.ts';

/** A friend's presence as a dot, with its meaning for screen readers. */
export function PresenceDot({ userId, name }: { userId: string; name: string }) {
  const { t } = useTranslation();
  const status = useChatStore().presenceOf(userId);
  return (
    <span
      className="presence-dot"
      data-status={status}
      role="img"
      aria-label={t(`chat.presence.${status}`, { name })}
    />
  );
}
