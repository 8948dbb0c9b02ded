import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { unreadCountQuery } from './notifications-query.ts';
import './nav-link.css';

/** The navigation's link to the notifications, with the unread count in its name (kept live by realtime). */
export function NotificationsNavLink() {
  const { t } = useTranslation();
  const unread = useQuery({ ...unreadCountQuery, refetchInterval: 60_000 });
  const count = unread.data?.count ?? 0;
  return (
    <Link to="/notifications">
      {t('nav.notifications')}
      {/* the name holds the visible count ("Notifications 3 unread"): it updates live */}
      {count > 0 && (
        <>
          {' '}
          <span className="nav-badge">{count > 99 ? '99+' : count}</span>
          <span className="visually-hidden"> {t('chat.bellUnread')}</span>
        </>
      )}
    </Link>
  );
}
