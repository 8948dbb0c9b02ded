import type { ChatMessage } from '@kith/contract';
import { useQuery } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { useTranslation } from 'react-i18next';
import { session } from '../../auth/session.ts';
import { outgoing } from '../../realtime/chat-send.ts';
import { chatStore, currentHub } from '../../realtime/realtime.ts';
import { useChatStore, usePollWhileDown } from '../../realtime/use-realtime.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { MuteToggle } from '../../ui/mute/mute-toggle.tsx';
import { ChatComposer } from './chat-composer.tsx';
import { conversationName, conversationQuery, fetchMessages, markReadOverHttp } from './chat-queries.ts';
import { MembersPanel } from './members-panel.tsx';
import { MessageItem, OutgoingItem } from './message-item.tsx';
import { PresenceDot } from './presence-dot.tsx';
import './chat.css';

export const Route = createLazyRoute('/chat/$conversationId')({ component: ConversationScreen });

const subscribeVisibility = (listener: () => void) => {
  document.addEventListener('visibilitychange', listener);
  return () => document.removeEventListener('visibilitychange', listener);
};

/** How close to the bottom (px) still counts as "at the bottom". */
const BOTTOM_SLACK = 48;

/** The run of messages ending at the newest held with no gap (seqs are gapless from 1 on the server). */
function tailRun(list: readonly ChatMessage[]): ChatMessage[] {
  let start = list.length - 1;
  while (start > 0 && list[start - 1]!.seq === list[start]!.seq - 1) start--;
  return list.slice(Math.max(start, 0));
}

function ConversationScreen() {
  const { conversationId: id } = Route.useParams();
  const { t } = useTranslation();
  const me = useSyncExternalStore(session.subscribe, session.getState);
  const myId = me.status === 'signedIn' ? me.user.id : undefined;
  const detail = useQuery(conversationQuery(id));
  const store = useChatStore();
  useSyncExternalStore(outgoing.subscribe, outgoing.version);

  const all = store.log(id).list();
  const messages = useMemo(() => tailRun(all), [all]);
  const oldest = messages[0]?.seq ?? 0;
  const newest = messages.at(-1)?.seq ?? 0;
  const held = new Set(messages.map((m) => m.clientMessageId));
  const pending = outgoing
    .inConversation(id)
    .filter((e) => e.status !== 'sent' && !held.has(e.draft.clientMessageId));

  // the newest page on opening (merged by seq with whatever the socket already brought)
  const [first, setFirst] = useState<{ loading: boolean; error?: unknown }>({ loading: true });
  useEffect(() => {
    const abort = new AbortController();
    setFirst({ loading: true });
    fetchMessages(id, {}, abort.signal).then(
      (page) => {
        chatStore.addMessages(id, page.items);
        setFirst({ loading: false });
      },
      (error) => {
        if (!abort.signal.aborted) setFirst({ loading: false, error });
      },
    );
    return () => abort.abort();
  }, [id]);

  // while the socket is down, the REST history stands in for it
  usePollWhileDown(
    useCallback(() => {
      const after = chatStore.log(id).newest;
      fetchMessages(id, after > 0 ? { after } : {}).then(
        (page) => chatStore.addMessages(id, page.items),
        () => {},
      );
    }, [id]),
    4000,
  );

  // others' read markers, from the member list, then live from member.read
  useEffect(() => {
    for (const m of detail.data?.members ?? []) chatStore.setRead(id, m.user.id, m.lastReadSeq);
  }, [detail.data, id]);

  const names = useMemo(
    () => new Map((detail.data?.members ?? []).map((m) => [m.user.id, m.user.displayName] as const)),
    [detail.data],
  );

  // ---- scrolling: stick to the bottom only when the reader is there -----------------------------
  const scroller = useRef<HTMLElement>(null);
  const atBottom = useRef(true);
  const [isAtBottom, setIsAtBottom] = useState(true);
  const [unseen, setUnseen] = useState(0);
  const previous = useRef({ oldest: 0, newest: 0, height: 0, top: 0, pending: 0 });
  const justSent = useRef(false);

  const scrollToBottom = useCallback(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setIsAtBottom(true);
    setUnseen(0);
  }, []);

  useLayoutEffect(() => {
    const el = scroller.current;
    const prev = previous.current;
    if (!el) return;
    if (prev.newest === 0 && newest > 0) {
      scrollToBottom();
    } else if (oldest < prev.oldest && newest === prev.newest) {
      el.scrollTop = prev.top + (el.scrollHeight - prev.height); // older page above: keep the reader's place
    } else if (newest > prev.newest || pending.length > prev.pending) {
      if (atBottom.current || justSent.current) scrollToBottom();
      else if (newest > prev.newest) {
        const fresh = messages.filter((m) => m.seq > prev.newest && m.senderId !== myId).length;
        setUnseen((n) => n + fresh);
      }
      justSent.current = false;
    }
    previous.current = {
      oldest,
      newest,
      height: el.scrollHeight,
      top: el.scrollTop,
      pending: pending.length,
    };
  });

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK;
    atBottom.current = bottom;
    setIsAtBottom(bottom);
    if (bottom) setUnseen(0);
    previous.current.top = el.scrollTop;
    previous.current.height = el.scrollHeight;
  };

  // ---- read marker: what the reader has at the bottom of the screen, once per new seq ------------
  const sentRead = useRef(0);
  const visible = useSyncExternalStore(subscribeVisibility, () => document.visibilityState === 'visible');
  useEffect(() => {
    if (!isAtBottom || !visible || newest === 0 || newest <= sentRead.current) return;
    sentRead.current = newest;
    const sent = currentHub()?.send({ type: 'conversation.read', conversationId: id, seq: newest });
    if (!sent) markReadOverHttp(id, newest).catch(() => (sentRead.current = 0));
  }, [id, newest, isAtBottom, visible]);

  // ---- older history, paged upward -------------------------------------------------------------
  const [older, setOlder] = useState<{ loading: boolean; error?: unknown }>({ loading: false });
  const loadOlder = () => {
    if (older.loading || oldest <= 1) return;
    setOlder({ loading: true });
    fetchMessages(id, { before: oldest }).then(
      (page) => {
        chatStore.addMessages(id, page.items);
        setOlder({ loading: false });
      },
      (error) => setOlder({ loading: false, error }),
    );
  };

  const typingNames = store
    .typingIn(id)
    .filter((u) => u !== myId)
    .map((u) => names.get(u) ?? t('chat.someone'));
  const reads = store.readsIn(id);
  const lastMine = [...messages].reverse().find((m) => m.senderId === myId && !m.deleted);
  const seenBy = lastMine
    ? [...reads]
        .filter(([user, seq]) => user !== myId && seq >= lastMine.seq)
        .map(([user]) => names.get(user) ?? t('chat.someone'))
    : [];

  const c = detail.data;
  const title = c
    ? conversationName(
        c,
        c.members
          .filter((m) => m.user.id !== myId)
          .map((m) => m.user.displayName)
          .join(', ') || t('chat.group'),
      )
    : t('chat.conversation');

  return (
    <section className="page chat-page conversation">
      <p>
        <Link to="/chat">{t('chat.back')}</Link>
      </p>
      <h1>
        {c?.peer && <PresenceDot userId={c.peer.id} name={c.peer.displayName} />}
        <span data-user-content>{title}</span>
      </h1>
      {detail.isError && <ErrorMessage error={detail.error} onRetry={() => void detail.refetch()} />}
      {c && <MuteToggle kind="conversation" id={c.id} name={title} />}
      {c && c.kind === 'group' && myId && <MembersPanel conversation={c} myId={myId} />}
      <section
        className="message-scroller"
        ref={scroller}
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the history scrolls by keyboard too
        tabIndex={0}
        aria-label={t('chat.historyLabel', { title })}
      >
        {oldest > 1 && (
          <button
            type="button"
            className="button ghost load-older"
            onClick={loadOlder}
            disabled={older.loading}
          >
            {older.loading ? t('chat.loadingOlder') : t('chat.loadOlder')}
          </button>
        )}
        {older.error !== undefined && <ErrorMessage error={older.error} onRetry={loadOlder} />}
        {first.loading && messages.length === 0 ? (
          <Loading />
        ) : first.error !== undefined && messages.length === 0 ? (
          <ErrorMessage error={first.error} />
        ) : messages.length === 0 && pending.length === 0 ? (
          <p className="empty">{t('chat.noMessages')}</p>
        ) : null}
        <div role="log" aria-label={t('chat.messagesLabel')}>
          <ol className="messages">
            {messages.map((m) => (
              <MessageItem
                key={m.seq}
                message={m}
                mine={m.senderId === myId}
                sender={m.senderId ? (names.get(m.senderId) ?? t('chat.someone')) : t('chat.formerMember')}
                seenBy={m === lastMine ? seenBy : undefined}
              />
            ))}
            {pending.map((entry) => (
              <OutgoingItem key={entry.draft.clientMessageId} entry={entry} />
            ))}
          </ol>
        </div>
      </section>
      {unseen > 0 && (
        <button type="button" className="button primary new-messages" onClick={scrollToBottom}>
          {t('chat.newMessages', { count: unseen })}
        </button>
      )}
      <p className="typing-indicator muted small" aria-live="polite">
        {typingNames.length > 0 ? t('chat.typing', { names: typingNames.join(', ') }) : ''}
      </p>
      <ChatComposer
        conversationId={id}
        onSent={() => {
          justSent.current = true;
        }}
      />
    </section>
  );
}
