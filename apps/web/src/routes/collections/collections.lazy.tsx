import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { VisibilityField } from './collection-form.tsx';
import { CollectionList } from './collection-list.tsx';
import { collections, refreshCollections, type Visibility } from './collections-query.ts';
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
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('friends');
  const create = useMutation({
    mutationFn: collections.create,
    onSuccess: (created) => {
      void refreshCollections(queryClient);
      void navigate({ to: '/collections/$collectionId', params: { collectionId: created.id } });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (title.trim() && !create.isPending)
      create.mutate({ title: title.trim(), description: description.trim(), visibility });
  };
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{t('social.collections.new')}</h2>
      <form className="stack collection-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-title`}>{t('social.collections.titleLabel')}</label>
          <input
            id={`${id}-title`}
            required
            maxLength={120}
            value={title}
            onChange={(e) => setTitle(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-description`}>{t('social.collections.descriptionLabel')}</label>
          <textarea
            id={`${id}-description`}
            rows={2}
            maxLength={2000}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <VisibilityField value={visibility} onChange={setVisibility} />
        {create.error && <ErrorMessage error={create.error} />}
        <div className="row">
          <button type="submit" className="button primary" disabled={create.isPending}>
            {create.isPending ? t('social.dialog.working') : t('social.collections.create')}
          </button>
        </div>
      </form>
    </section>
  );
}
