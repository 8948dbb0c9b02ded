import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link, useNavigate } from '@tanstack/react-router';
import { useEffect, useId, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { ConfirmDialog, Dialog } from '../post/dialog.tsx';
import { type CollectionFields, CollectionForm } from './collection-form.tsx';
import { ItemList } from './collection-items.tsx';
import {
  type CollectionDetail,
  collectionQuery,
  collections,
  refreshCollections,
} from './collections-query.ts';
import './collections.css';

export const Route = createLazyRoute('/collections/$collectionId')({ component: CollectionScreen });

function CollectionScreen() {
  const { t } = useTranslation();
  const { collectionId } = Route.useParams();
  const { session } = Route.useRouteContext();
  const me = useSyncExternalStore(session.subscribe, session.getState);
  const detail = useInfiniteQuery(collectionQuery(collectionId));
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = detail;
  // every item is needed to reorder (the server takes the whole order): read the pages to the end
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isFetchNextPageError) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage]);
  const head = detail.data?.pages[0];
  if (!head) {
    return (
      <section className="page">
        <h1>{t('social.collections.one')}</h1>
        {detail.isError ? (
          <ErrorMessage error={detail.error} onRetry={() => void detail.refetch()} />
        ) : (
          <Loading />
        )}
      </section>
    );
  }
  const items = detail.data?.pages.flatMap((p) => p.items) ?? [];
  const mine = me.status === 'signedIn' && head.owner.id === me.user.id;
  return (
    <div className="page collection">
      <header className="collection-header">
        <h1>
          <span data-user-content>{head.title}</span>
        </h1>
        <p className="muted">
          {t('social.collections.by')}{' '}
          <Link to="/users/$username" params={{ username: head.owner.username }}>
            <span data-user-content>{head.owner.displayName}</span>
          </Link>{' '}
          · {t('social.collections.count', { count: head.itemCount })} ·{' '}
          {t(`post.visibility.${head.visibility}`)}
        </p>
        {head.description && (
          <p className="collection-description" data-user-content>
            {head.description}
          </p>
        )}
      </header>
      {mine && <OwnerTools collection={head} />}
      <ShareLink collection={head} />
      <section aria-labelledby="collection-items-h">
        <h2 id="collection-items-h">{t('social.collections.posts')}</h2>
        {items.length === 0 ? (
          <p className="empty">{t('social.collections.noPosts')}</p>
        ) : (
          <ItemList collectionId={head.id} items={items} editable={mine} complete={!hasNextPage} />
        )}
        {isFetchNextPageError && <ErrorMessage error={detail.error} onRetry={() => void fetchNextPage()} />}
        {isFetchingNextPage && <Loading />}
      </section>
    </div>
  );
}

/** Rename (title, description, visibility) and delete, for the owner. */
function OwnerTools({ collection: c }: { collection: CollectionDetail }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [dialog, setDialog] = useState<'edit' | 'delete' | undefined>();
  const remove = useMutation({
    mutationFn: () => collections.remove(c.id),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ['collections', 'one', c.id] });
      void refreshCollections(queryClient);
      void navigate({ to: '/collections' });
    },
  });
  return (
    <div className="row collection-tools">
      <button type="button" className="button" aria-haspopup="dialog" onClick={() => setDialog('edit')}>
        {t('social.collections.edit')}
      </button>
      <button type="button" className="button" aria-haspopup="dialog" onClick={() => setDialog('delete')}>
        {t('social.collections.delete')}
      </button>
      {dialog === 'edit' && <EditCollection collection={c} onClose={() => setDialog(undefined)} />}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={t('social.collections.delete')}
          question={t('social.collections.deleteQuestion', { title: c.title })}
          confirmLabel={t('social.collections.delete')}
          busy={remove.isPending}
          error={remove.error && <ErrorMessage error={remove.error} />}
          onConfirm={() => remove.mutate()}
          onClose={() => {
            remove.reset();
            setDialog(undefined);
          }}
        />
      )}
    </div>
  );
}

function EditCollection({ collection: c, onClose }: { collection: CollectionDetail; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (fields: CollectionFields) => collections.update(c.id, fields),
    onSuccess: async () => {
      await refreshCollections(queryClient);
      onClose();
    },
  });
  return (
    <Dialog title={t('social.collections.editTitle')} onClose={onClose}>
      <CollectionForm
        initial={c}
        descriptionRows={3}
        busy={save.isPending}
        submitLabel={t('social.dialog.save')}
        busyLabel={t('social.dialog.saving')}
        error={save.error && <ErrorMessage error={save.error} />}
        onSubmit={(fields) => save.mutate(fields)}
      >
        <button type="button" className="button" onClick={onClose}>
          {t('social.dialog.cancel')}
        </button>
      </CollectionForm>
    </Dialog>
  );
}

/** The collection's address, to copy; who can open it follows its visibility. */
function ShareLink({ collection: c }: { collection: CollectionDetail }) {
  const { t } = useTranslation();
  const id = useId();
  const url = `${location.origin}/collections/${c.id}`;
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('yes');
    } catch {
      // no clipboard permission: select the text so Ctrl+C works
      (document.getElementById(`${id}-url`) as HTMLInputElement | null)?.select();
      setCopied('no');
    }
  };
  return (
    <section aria-labelledby={id} className="share">
      <h2 id={id}>{t('social.collections.share')}</h2>
      <p className="muted small">{t(`social.collections.shareWho.${c.visibility}`)}</p>
      <div className="row">
        <label htmlFor={`${id}-url`} className="visually-hidden">
          {t('social.collections.shareLabel')}
        </label>
        <input id={`${id}-url`} readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button" onClick={() => void copy()}>
          {t('social.collections.copy')}
        </button>
      </div>
      <p role="status" className="small">
        {copied === 'yes'
          ? t('social.collections.copied')
          : copied === 'no'
            ? t('social.collections.copyBySelect')
            : ''}
      </p>
    </section>
  );
}
