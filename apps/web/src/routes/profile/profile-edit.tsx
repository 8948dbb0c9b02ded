import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import type { Profile } from './profile-query.ts';

const NAME_MAX = 64;
const BIO_MAX = 500;

/** My own display name and bio, saved with PATCH /me. */
export function EditProfile({ profile }: { profile: Profile }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [displayName, setDisplayName] = useState(profile.displayName);
  const [bio, setBio] = useState(profile.bio);
  const nameId = useId();
  const bioId = useId();
  const save = useMutation({
    mutationFn: () => call(api.PATCH('/api/v1/me', { body: { displayName: displayName.trim(), bio } })),
    onSuccess: (me) => {
      queryClient.setQueryData<Profile>(['users', profile.username, 'profile'], (old) =>
        old ? { ...old, displayName: me.displayName, bio: me.bio } : old,
      );
      void queryClient.invalidateQueries({ queryKey: ['users', profile.username] });
    },
  });
  const nameBlank = displayName.trim() === '';
  const changed = displayName !== profile.displayName || bio !== profile.bio;
  return (
    <section className="profile-edit" aria-labelledby={`${nameId}-title`}>
      <h2 id={`${nameId}-title`}>{t('profile.edit.title')}</h2>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!nameBlank) save.mutate();
        }}
      >
        <div className="field">
          <label htmlFor={nameId}>{t('profile.edit.displayName')}</label>
          <input
            id={nameId}
            value={displayName}
            maxLength={NAME_MAX}
            aria-invalid={nameBlank}
            aria-describedby={`${nameId}-hint`}
            onChange={(e) => setDisplayName(e.target.value)}
          />
          <p className="hint" id={`${nameId}-hint`}>
            {nameBlank
              ? t('profile.edit.nameRequired')
              : t('profile.edit.left', { count: NAME_MAX - displayName.length })}
          </p>
        </div>
        <div className="field">
          <label htmlFor={bioId}>{t('profile.edit.bio')}</label>
          <textarea
            id={bioId}
            value={bio}
            rows={4}
            maxLength={BIO_MAX}
            aria-describedby={`${bioId}-hint`}
            onChange={(e) => setBio(e.target.value)}
          />
          <p className="hint" id={`${bioId}-hint`}>
            {t('profile.edit.left', { count: BIO_MAX - bio.length })}
          </p>
        </div>
        {save.isError && <ErrorMessage error={save.error} />}
        <div className="row">
          <button type="submit" className="button primary" disabled={save.isPending || nameBlank || !changed}>
            {save.isPending ? t('profile.edit.saving') : t('profile.edit.save')}
          </button>
          <p role="status" className="muted">
            {save.isSuccess && !changed ? t('profile.edit.saved') : ''}
          </p>
        </div>
      </form>
    </section>
  );
}
