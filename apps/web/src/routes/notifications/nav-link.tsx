import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { unreadCountQuery } from './notifications-query.ts';
import './nav-link.css';

/** The navigation's link to the notifications, with the unread count in its name. */
export function NotificationsNavLink() {
  const { t } = useTranslation();
  const unread = useQuery({ ...unreadCountQuery, refetchInterval: 60_000 });
  const count = unread.data?.count ?? 0;
  return (
    <Link to="/notifications" aria-label={count > 0 ? t('nav.notificationsUnread', { count }) : undefined}>
      {t('nav.notifications')}
      {count > 0 && (
        <span className="nav-badge" aria-hidden="true">
          {count > 99 ? '99+' : count}
        </span>
      )}
    </Link>
  );
}
