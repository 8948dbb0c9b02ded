import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import {
  MUTE_AFFECTED,
  mutedConversationsQuery,
  mutedHashtagsQuery,
  mutedUsersQuery,
  muteHashtag,
  unmuteConversation,
  unmuteHashtag,
  unmuteUser,
} from '../../ui/mute/mutes-query.ts';
import '../../ui/mute/mutes.css';

/** What I muted: users, hashtags and conversations, each with a way to undo; a hashtag can be added here. */
export function MutesSection() {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const users = useQuery(mutedUsersQuery);
  const tags = useQuery(mutedHashtagsQuery);
  const conversations = useQuery(mutedConversationsQuery);
  const refresh = () =>
    Promise.all(MUTE_AFFECTED.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })));
  const undo = useMutation({
    mutationFn: (target: { kind: 'user' | 'hashtag'; key: string }) =>
      target.kind === 'user' ? unmuteUser(target.key) : unmuteHashtag(target.key),
    onSuccess: refresh,
  });
  const [tag, setTag] = useState('');
  const add = useMutation({
    mutationFn: (raw: string) => muteHashtag(raw.replace(/^#/, '').trim()),
    onSuccess: async () => {
      setTag('');
      await refresh();
    },
  });
  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    if (tag.replace(/^#/, '').trim()) add.mutate(tag);
  };
  const undoConversations = useMutation({
    mutationFn: async (ids: string[]) => {
      for (const conversationId of ids) await unmuteConversation(conversationId);
    },
    onSuccess: refresh,
  });
  const busy = (kind: string, key: string) =>
    undo.isPending && undo.variables?.kind === kind && undo.variables.key === key;

  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('mutes.title')}</h2>
      <p className="muted">{t('mutes.about')}</p>

      <h3>{t('mutes.usersTitle')}</h3>
      {users.isPending ? (
        <Loading />
      ) : users.isError ? (
        <ErrorMessage error={users.error} onRetry={() => void users.refetch()} />
      ) : users.data.items.length === 0 ? (
        <p className="muted">{t('mutes.noUsers')}</p>
      ) : (
        <ul className="people">
          {users.data.items.map((m) => (
            <li key={m.user.id}>
              <Link to="/users/$username" params={{ username: m.user.username }}>
                <strong data-user-content>{m.user.displayName}</strong>{' '}
                <span className="muted" data-user-content>
                  @{m.user.username}
                </span>
              </Link>
              {m.expiresAt && (
                <span className="muted small">
                  {t('mutes.until', { date: new Date(m.expiresAt).toLocaleString() })}
                </span>
              )}
              <button
                type="button"
                className="button"
                disabled={busy('user', m.user.username)}
                onClick={() => undo.mutate({ kind: 'user', key: m.user.username })}
              >
                {t('mutes.unmuteName', { name: `@${m.user.username}` })}
              </button>
            </li>
          ))}
        </ul>
      )}

      <h3>{t('mutes.hashtagsTitle')}</h3>
      {tags.isPending ? (
        <Loading />
      ) : tags.isError ? (
        <ErrorMessage error={tags.error} onRetry={() => void tags.refetch()} />
      ) : tags.data.items.length === 0 ? (
        <p className="muted">{t('mutes.noHashtags')}</p>
      ) : (
        <ul className="people">
          {tags.data.items.map((m) => (
            <li key={m.tag}>
              <Link to="/tags/$tag" params={{ tag: m.tag }}>
                <span data-user-content>#{m.tag}</span>
              </Link>
              <button
                type="button"
                className="button"
                disabled={busy('hashtag', m.tag)}
                onClick={() => undo.mutate({ kind: 'hashtag', key: m.tag })}
              >
                {t('mutes.unmuteName', { name: `#${m.tag}` })}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="mute-add" onSubmit={onAdd}>
        <label htmlFor={`${id}-tag`}>{t('mutes.addHashtag')}</label>
        <input
          id={`${id}-tag`}
          value={tag}
          maxLength={101}
          autoComplete="off"
          onChange={(e) => setTag(e.target.value)}
        />
        <button type="submit" className="button" disabled={add.isPending}>
          {t('mutes.addHashtagButton')}
        </button>
      </form>
      {add.isError && <ErrorMessage error={add.error} />}

      <h3>{t('mutes.conversationsTitle')}</h3>
      {conversations.isPending ? (
        <Loading />
      ) : conversations.isError ? (
        <ErrorMessage error={conversations.error} onRetry={() => void conversations.refetch()} />
      ) : conversations.data.items.length === 0 ? (
        <p className="muted">{t('mutes.noConversations')}</p>
      ) : (
        <p>
          {t('mutes.conversationsCount', { count: conversations.data.items.length })}{' '}
          <button
            type="button"
            className="button"
            disabled={undoConversations.isPending}
            onClick={() => undoConversations.mutate(conversations.data.items.map((m) => m.conversationId))}
          >
            {t('mutes.unmuteAllConversations')}
          </button>
        </p>
      )}
      {undo.isError && <ErrorMessage error={undo.error} />}
      {undoConversations.isError && <ErrorMessage error={undoConversations.error} />}
    </section>
  );
}
