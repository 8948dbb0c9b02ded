import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import {
  applyMarkedRead,
  markReadUpTo,
  type Notification,
  notificationsQuery,
  unreadCountQuery,
} from './notifications-query.ts';
import './notifications.css';

export const Route = createLazyRoute('/notifications')({ component: NotificationsScreen });

function NotificationsScreen() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const list = useInfiniteQuery(notificationsQuery);
  const unread = useQuery(unreadCountQuery);
  const markRead = useMutation({
    mutationFn: markReadUpTo,
    onSuccess: (result, upTo) => applyMarkedRead(queryClient, upTo, result.unreadCount),
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const unreadCount = unread.data?.count ?? items.filter((n) => !n.read).length;
  const newest = items[0];

  return (
    <section className="page notifications" aria-labelledby="notifications-title">
      <div className="notifications-head">
        <h1 id="notifications-title">{t('notifications.title')}</h1>
        {unread.isSuccess && (
          <p className="muted" role="status">
            {t('notifications.unread', { count: unreadCount })}
          </p>
        )}
        {newest && (
          <button
            type="button"
            className="button"
            disabled={markRead.isPending || unreadCount === 0}
            onClick={() => markRead.mutate(newest.id)}
          >
            {markRead.isPending ? t('notifications.marking') : t('notifications.markAll')}
          </button>
        )}
      </div>
      {markRead.isError && <ErrorMessage error={markRead.error} />}
      {list.isPending ? (
        <Loading />
      ) : list.isError && items.length === 0 ? (
        <ErrorMessage error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('notifications.empty')}</p>
      ) : (
        <>
          <ol className="notification-list" aria-label={t('notifications.label')}>
            {items.map((n) => (
              <NotificationItem
                key={n.id}
                notification={n}
                busy={markRead.isPending}
                onMarkRead={() => markRead.mutate(n.id)}
              />
            ))}
          </ol>
          {list.isFetchNextPageError && (
            <ErrorMessage error={list.error} onRetry={() => void list.fetchNextPage()} />
          )}
          {list.hasNextPage ? (
            <button
              type="button"
              className="button"
              disabled={list.isFetchingNextPage}
              onClick={() => void list.fetchNextPage()}
            >
              {list.isFetchingNextPage ? t('notifications.loadingMore') : t('notifications.loadMore')}
            </button>
          ) : (
            <p className="muted small">{t('notifications.end')}</p>
          )}
        </>
      )}
    </section>
  );
}

function NotificationItem({
  notification: n,
  busy,
  onMarkRead,
}: {
  notification: Notification;
  busy: boolean;
  onMarkRead: () => void;
}) {
  const { t } = useTranslation();
  const text = useNotificationText(n);
  return (
    <li className="notification" data-read={n.read}>
      <p className="notification-text">
        {!n.read && <span className="unread-dot">{t('notifications.unreadMark')}</span>}
        <NotificationLink notification={n}>{text}</NotificationLink>
      </p>
      <p className="muted small notification-meta">
        <TimeAgo iso={n.updatedAt} />
        {!n.read && (
          <button type="button" className="button ghost small" disabled={busy} onClick={onMarkRead}>
            {t('notifications.markUpTo')}
          </button>
        )}
      </p>
    </li>
  );
}

/** The sentence links to what it is about: the post, the friend requests, or the new friend. */
function NotificationLink({ notification: n, children }: { notification: Notification; children: string }) {
  const first = n.actors[0];
  if (n.kind === 'friend_request') return <Link to="/friends">{children}</Link>;
  if (n.kind === 'moderation_notice' && n.subjectId && n.data.action !== 'suspension_ended')
    return (
      <Link to="/moderation/notices/$caseId" params={{ caseId: n.subjectId }}>
        {children}
      </Link>
    );
  if (n.kind === 'friend_accepted' && first)
    return (
      <Link to="/users/$username" params={{ username: first.username }}>
        {children}
      </Link>
    );
  if ((n.kind === 'comment' || n.kind === 'reaction' || n.kind === 'mention') && n.subjectId)
    return (
      <Link to="/posts/$postId" params={{ postId: n.subjectId }}>
        {children}
      </Link>
    );
  return <>{children}</>;
}

/** "Ana", "Ana and Ben", "Ana and 3 others" + what they did; names are interpolated as text. */
function useNotificationText(n: Notification): string {
  const { t } = useTranslation();
  const [first, second] = n.actors;
  const name = (u: typeof first) => (u ? u.displayName || `@${u.username}` : t('notifications.someone'));
  const actors =
    n.actorCount <= 1
      ? name(first)
      : n.actorCount === 2 && second
        ? t('notifications.actorsTwo', { first: name(first), second: name(second) })
        : t('notifications.actorsMany', { first: name(first), count: n.actorCount - 1 });
  switch (n.kind) {
    case 'friend_request':
      return t('notifications.kind.friendRequest', { actors, count: n.actorCount });
    case 'friend_accepted':
      return t('notifications.kind.friendAccepted', { actors, count: n.actorCount });
    case 'comment':
      return t('notifications.kind.comment', { actors, count: n.actorCount });
    case 'reaction':
      return t('notifications.kind.reaction', { actors, count: n.actorCount });
    case 'mention':
      return t('notifications.kind.mention', { actors, count: n.actorCount });
    // Kith's own notices (reports and moderation): no actor is named
    case 'report_resolved':
      return t(
        n.data.outcome === 'no_action'
          ? 'moderation.notification.reportResolved.no_action'
          : 'moderation.notification.reportResolved.action_taken',
        { target: t(targetKey(n.data.targetType)).toLowerCase() },
      );
    case 'moderation_notice':
      return t(noticeKey(n.data.action), {
        target: t(targetKey(n.data.targetType)).toLowerCase(),
        until: n.data.until ? new Date(n.data.until).toLocaleString() : '',
      });
  }
}

const TARGETS = ['post', 'comment', 'message', 'user'] as const;
const NOTICES = ['remove', 'warn', 'suspend', 'ban', 'uphold', 'overturn', 'suspension_ended'] as const;
/** The catalogue key for a notice's reported thing (a value from the server, checked). */
const targetKey = (value: string | undefined) =>
  `moderation.target.${TARGETS.find((x) => x === value) ?? 'post'}` as const;
const noticeKey = (value: string | undefined) =>
  `moderation.notification.notice.${NOTICES.find((x) => x === value) ?? 'warn'}` as const;
