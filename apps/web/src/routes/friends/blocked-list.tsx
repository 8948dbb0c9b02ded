import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { MoreButton } from '../profile/profile-lists.tsx';
import { refreshRelationships, relationship } from '../profile/profile-query.ts';
import { type Blocked, blockedQuery } from './friends-query.ts';

/** Who I blocked, each with "unblock". */
export function BlockedList() {
  const { t } = useTranslation();
  const id = useId();
  const blocked = useInfiniteQuery(blockedQuery());
  const items = blocked.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{t('social.blocked.title')}</h2>
      <p className="muted small">{t('social.blocked.explain')}</p>
      {blocked.isPending ? (
        <Loading />
      ) : blocked.isError && items.length === 0 ? (
        <ErrorMessage error={blocked.error} onRetry={() => void blocked.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted">{t('social.blocked.empty')}</p>
      ) : (
        <>
          <ul className="people blocked-list">
            {items.map((u) => (
              <BlockedRow key={u.id} user={u} />
            ))}
          </ul>
          <MoreButton query={blocked} label={t('social.blocked.more')} />
        </>
      )}
    </section>
  );
}

function BlockedRow({ user: u }: { user: Blocked }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const unblock = useMutation({
    mutationFn: () => relationship.unblock(u.username),
    onSuccess: () => refreshRelationships(queryClient),
  });
  return (
    <li>
      <Link to="/users/$username" params={{ username: u.username }}>
        <span data-user-content>{u.displayName}</span>
      </Link>
      <span className="muted small">
        <span data-user-content>@{u.username}</span> · {t('social.blocked.since')}{' '}
        <TimeAgo iso={u.blockedAt} />
      </span>
      <button
        type="button"
        className="button"
        disabled={unblock.isPending}
        aria-label={t('social.blocked.unblockName', { name: u.displayName })}
        onClick={() => unblock.mutate()}
      >
        {t('profile.unblock')}
      </button>
      {unblock.isError && <ErrorMessage error={unblock.error} />}
    </li>
  );
}
