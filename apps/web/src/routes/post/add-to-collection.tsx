import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import {
  type Collection,
  collections,
  refreshCollections,
  userCollectionsQuery,
} from '../collections/collections-query.ts';
import { Dialog } from './dialog.tsx';

/** "Add to collection": a dialog listing my collections, each with its own "add" button. */
export function AddToCollection({ postId, username }: { postId: string; username: string }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="button" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        {t('social.addToCollection.open')}
      </button>
      {open && (
        <Dialog title={t('social.addToCollection.title')} onClose={() => setOpen(false)}>
          <CollectionChoices postId={postId} username={username} />
          <div className="row">
            <button type="button" className="button" onClick={() => setOpen(false)}>
              {t('social.dialog.close')}
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}

function CollectionChoices({ postId, username }: { postId: string; username: string }) {
  const { t } = useTranslation();
  const mine = useInfiniteQuery(userCollectionsQuery(username));
  const items = mine.data?.pages.flatMap((p) => p.items) ?? [];
  if (mine.isPending) return <Loading />;
  if (mine.isError && items.length === 0)
    return <ErrorMessage error={mine.error} onRetry={() => void mine.refetch()} />;
  if (items.length === 0) {
    return (
      <p>
        {t('social.addToCollection.none')} <Link to="/collections">{t('social.addToCollection.create')}</Link>
      </p>
    );
  }
  return (
    <>
      <ul className="plain-list collection-choices">
        {items.map((c) => (
          <Choice key={c.id} collection={c} postId={postId} />
        ))}
      </ul>
      {mine.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={mine.isFetchingNextPage}
          onClick={() => void mine.fetchNextPage()}
        >
          {t('social.collections.more')}
        </button>
      )}
    </>
  );
}

function Choice({ collection: c, postId }: { collection: Collection; postId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const add = useMutation({
    mutationFn: () => collections.addPost(c.id, postId),
    onSuccess: () => refreshCollections(queryClient),
  });
  return (
    <li>
      <span data-user-content>{c.title}</span>{' '}
      <span className="muted small">{t('social.collections.count', { count: c.itemCount })}</span>{' '}
      {add.isSuccess ? (
        <span role="status">{t('social.addToCollection.added')}</span>
      ) : (
        <button
          type="button"
          className="button"
          disabled={add.isPending}
          aria-label={t('social.addToCollection.addTo', { title: c.title })}
          onClick={() => add.mutate()}
        >
          {t('social.addToCollection.add')}
        </button>
      )}
      {add.isError && <ErrorMessage error={add.error} />}
    </li>
  );
}
