import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, useNavigate } from '@tanstack/react-router';
import { useId, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { CollectionForm } from './collection-form.tsx';
import { CollectionList } from './collection-list.tsx';
import { collections, refreshCollections } from './collections-query.ts';
import './collections.css';

export const Route = createLazyRoute('/collections')({ component: CollectionsScreen });

function CollectionsScreen() {
  const { t } = useTranslation();
  const { session } = Route.useRouteContext();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  return (
    <div className="page collections">
      <h1>{t('social.collections.title')}</h1>
      <CreateCollection />
      {state.status === 'signedIn' && <CollectionList username={state.user.username} />}
    </div>
  );
}

function CreateCollection() {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: collections.create,
    onSuccess: (created) => {
      void refreshCollections(queryClient);
      void navigate({ to: '/collections/$collectionId', params: { collectionId: created.id } });
    },
  });
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{t('social.collections.new')}</h2>
      <CollectionForm
        initial={{ title: '', description: '', visibility: 'friends' }}
        descriptionRows={2}
        className="stack collection-form"
        busy={create.isPending}
        submitLabel={t('social.collections.create')}
        busyLabel={t('social.dialog.working')}
        error={create.error && <ErrorMessage error={create.error} />}
        onSubmit={(fields) => create.mutate(fields)}
      />
    </section>
  );
}
