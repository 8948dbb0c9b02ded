import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CHAT_KEYS, type Conversation, chatStore } from '../../realtime/realtime.ts';
import { useChatStore, usePollWhileDown } from '../../realtime/use-realtime.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { conversationName, conversationsQuery, createConversation } from './chat-queries.ts';
import { PresenceDot } from './presence-dot.tsx';
import './chat.css';

export const Route = createLazyRoute('/chat')({ component: ChatListScreen });

function ChatListScreen() {
  const { t } = useTranslation();
  const list = useInfiniteQuery(conversationsQuery);
  const conversations = list.data?.pages.flatMap((p) => p.items) ?? [];
  usePollWhileDown(() => void list.refetch(), 15_000);
  useEffect(() => {
    for (const c of conversations) chatStore.knowPosition(c.id, c.lastSeq);
  }, [conversations]);
  return (
    <section className="page chat-page">
      <h1>{t('chat.title')}</h1>
      <NewConversation />
      {list.isPending ? (
        <Loading />
      ) : list.isError && conversations.length === 0 ? (
        <ErrorMessage error={list.error} onRetry={() => void list.refetch()} />
      ) : conversations.length === 0 ? (
        <p className="empty">{t('chat.empty')}</p>
      ) : (
        <>
          <ul className="conversation-list" aria-label={t('chat.listLabel')}>
            {conversations.map((c) => (
              <ConversationRow key={c.id} conversation={c} />
            ))}
          </ul>
          {list.hasNextPage && (
            <button
              type="button"
              className="button"
              disabled={list.isFetchingNextPage}
              onClick={() => void list.fetchNextPage()}
            >
              {t('chat.loadMoreConversations')}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function ConversationRow({ conversation: c }: { conversation: Conversation }) {
  const { t } = useTranslation();
  const store = useChatStore();
  const name = conversationName(c, t('chat.group'));
  const typing = store.typingIn(c.id).length > 0;
  const last = c.lastMessage;
  const preview = typing
    ? t('chat.typingShort')
    : !last
      ? t('chat.noMessages')
      : last.deleted
        ? t('chat.deleted')
        : last.body || t('chat.photo');
  return (
    <li className="conversation-row" data-unread={(c.unreadCount > 0 && !c.muted) || undefined}>
      <Link to="/chat/$conversationId" params={{ conversationId: c.id }} className="conversation-link">
        <span className="conversation-name">
          {c.peer && <PresenceDot userId={c.peer.id} name={c.peer.displayName} />}
          <span data-user-content>{name}</span>
        </span>
        <span className="conversation-preview" data-user-content={!typing || undefined}>
          {preview}
        </span>
        {c.muted && <span className="muted small">{t('mutes.mutedLabel')}</span>}
        {c.unreadCount > 0 && !c.muted && (
          <span className="unread-badge" role="img" aria-label={t('chat.unread', { count: c.unreadCount })}>
            {c.unreadCount > 99 ? '99+' : c.unreadCount}
          </span>
        )}
      </Link>
    </li>
  );
}

/** A direct conversation (one username, no name) or a group (a name, or several people). */
function NewConversation() {
  const { t } = useTranslation();
  const ids = { people: useId(), title: useId(), hint: useId() };
  const [people, setPeople] = useState('');
  const [title, setTitle] = useState('');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: () =>
      createConversation(
        people
          .split(/[\s,]+/)
          .map((u) => u.replace(/^@/, ''))
          .filter(Boolean),
        title.trim() || undefined,
      ),
    onSuccess: (conversation) => {
      setPeople('');
      setTitle('');
      void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversations });
      void navigate({ to: '/chat/$conversationId', params: { conversationId: conversation.id } });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (people.trim()) create.mutate();
  };
  return (
    <details className="new-conversation">
      <summary>{t('chat.new')}</summary>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor={ids.people}>{t('chat.people')}</label>
          <input
            id={ids.people}
            value={people}
            onChange={(e) => setPeople(e.target.value)}
            aria-describedby={ids.hint}
            autoComplete="off"
            required
          />
          <p id={ids.hint} className="hint">
            {t('chat.peopleHint')}
          </p>
        </div>
        <div className="field">
          <label htmlFor={ids.title}>{t('chat.groupName')}</label>
          <input id={ids.title} value={title} maxLength={100} onChange={(e) => setTitle(e.target.value)} />
        </div>
        {create.error && <ErrorMessage error={create.error} />}
        <button type="submit" className="button primary" disabled={create.isPending}>
          {t('chat.start')}
        </button>
      </form>
    </details>
  );
}
