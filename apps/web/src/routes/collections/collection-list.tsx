import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { MoreButton } from '../profile/profile-lists.tsx';
import { userCollectionsQuery } from './collections-query.ts';

/** A user's collections as links (mine on this screen; anyone's on a profile). */
export function CollectionList({ username, title }: { username: string; title?: string }) {
  const { t } = useTranslation();
  const id = useId();
  const list = useInfiniteQuery(userCollectionsQuery(username));
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title ?? t('social.collections.mine')}</h2>
      {list.isPending ? (
        <Loading />
      ) : list.isError && items.length === 0 ? (
        <ErrorMessage error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('social.collections.empty')}</p>
      ) : (
        <>
          <ul className="people">
            {items.map((c) => (
              <li key={c.id}>
                <Link to="/collections/$collectionId" params={{ collectionId: c.id }}>
                  <span data-user-content>{c.title}</span>
                </Link>
                <span className="muted small">
                  {t('social.collections.count', { count: c.itemCount })} ·{' '}
                  {t(`post.visibility.${c.visibility}`)}
                </span>
              </li>
            ))}
          </ul>
          <MoreButton query={list} label={t('social.collections.more')} />
        </>
      )}
    </section>
  );
}
