import type { REALTIME_PROTOCOL, ServerMessage } from '@kith/contract';
import { type InfiniteData, onlineManager, type QueryClient } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../api/client.ts';
import type { AuthSession } from '../auth/session.ts';
import { ChatStore } from './chat-store.ts';
import { type ChannelLike, RealtimeHub } from './hub.ts';
import type { LocksLike } from './leader.ts';
import { SocketConnection, type SocketLike } from './socket.ts';

/** The protocol's name, checked against the contract's constant (a value import would bundle TypeBox). */
const PROTOCOL: typeof REALTIME_PROTOCOL = 'kith.v1';

export type ConversationPage = ResponseOf<'/api/v1/conversations', 'get'>;
export type Conversation = ConversationPage['items'][number];

/** The query keys realtime events keep fresh (the screens use the same). */
export const CHAT_KEYS = {
  conversations: ['chat', 'conversations'] as const,
  conversation: (id: string) => ['chat', 'conversation', id] as const,
};
const NOTIFICATIONS_LIST = ['notifications', 'list'] as const;
const NOTIFICATIONS_UNREAD = ['notifications', 'unread'] as const;

export const chatStore = new ChatStore();

/** "N new posts": feed entries announced by `feed.new` since the reader last refreshed the feed. */
export const feedNews = {
  count: 0,
  listeners: new Set<() => void>(),
  subscribe(listener: () => void) {
    feedNews.listeners.add(listener);
    return () => feedNews.listeners.delete(listener);
  },
  get: () => feedNews.count,
  set(count: number) {
    feedNews.count = count;
    for (const l of feedNews.listeners) l();
  },
};

let hub: RealtimeHub | undefined;
let me: string | undefined;
const hubListeners = new Set<() => void>();

/** The signed-in user's realtime hub (undefined while signed out). */
export function currentHub(): RealtimeHub | undefined {
  return hub;
}

/** My user id, once signed in. */
export function currentUserId(): string | undefined {
  return me;
}

/** For `useSyncExternalStore`: the hub appears and goes with the session. */
export function subscribeHub(listener: () => void): () => void {
  hubListeners.add(listener);
  return () => hubListeners.delete(listener);
}

function browserLocks(): LocksLike | undefined {
  return (globalThis.navigator as Navigator | undefined)?.locks as unknown as LocksLike | undefined;
}

function browserChannel(name: string): ChannelLike | undefined {
  return typeof BroadcastChannel === 'undefined'
    ? undefined
    : (new BroadcastChannel(name) as unknown as ChannelLike);
}

function createHub(userId: string): RealtimeHub {
  return new RealtimeHub({
    locks: browserLocks(),
    channel: browserChannel(`kith-realtime:${userId}`),
    lockName: `kith-realtime:${userId}`,
    createSocket: (handlers) =>
      new SocketConnection({
        ticket: async () => (await call(api.POST('/api/v1/realtime/ticket'))).ticket,
        open: (ticket) => {
          const url = new URL('/api/v1/realtime', location.href);
          url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
          url.searchParams.set('ticket', ticket);
          return new WebSocket(url, PROTOCOL) as unknown as SocketLike;
        },
        positions: () => chatStore.resumePositions(),
        // the app's one view of the network (pwa/network.ts: events, re-checks, answers)
        online: () => onlineManager.isOnline(),
        onEvent: handlers.onEvent,
        onState: (state) => {
          // the server answered over the socket: the network is there, whatever events said
          if (state === 'live') onlineManager.setOnline(true);
          handlers.onState(state);
        },
      }),
  });
}

/** Keeps the HTTP caches that realtime events touch up to date. */
function applyToCaches(queryClient: QueryClient, event: ServerMessage): void {
  switch (event.type) {
    case 'hello':
      // (re)connected: whatever changed while we were away is re-read once
      void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversations });
      void queryClient.invalidateQueries({ queryKey: NOTIFICATIONS_UNREAD });
      return;
    case 'message.new': {
      const { message } = event;
      let found = false;
      queryClient.setQueryData<InfiniteData<ConversationPage>>(CHAT_KEYS.conversations, (data) => {
        if (!data) return data;
        let moved: Conversation | undefined;
        const pages = data.pages.map((page) => ({
          ...page,
          items: page.items.filter((c) => {
            if (c.id !== message.conversationId) return true;
            found = true;
            if (message.seq <= c.lastSeq) {
              moved = c;
              return false;
            }
            const fromOther = message.senderId !== me;
            moved = {
              ...c,
              lastMessage: message,
              lastSeq: message.seq,
              lastMessageAt: message.createdAt,
              unreadCount: fromOther ? c.unreadCount + 1 : c.unreadCount,
              lastReadSeq: fromOther ? c.lastReadSeq : message.seq,
            };
            return false;
          }),
        }));
        if (!moved || !pages[0]) return data;
        pages[0] = { ...pages[0], items: [moved, ...pages[0].items] };
        return { ...data, pages };
      });
      if (!found) void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversations });
      return;
    }
    case 'conversation.read':
      queryClient.setQueryData<InfiniteData<ConversationPage>>(CHAT_KEYS.conversations, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((c) =>
                  c.id === event.conversationId
                    ? { ...c, unreadCount: event.unreadCount, lastReadSeq: event.lastReadSeq }
                    : c,
                ),
              })),
            }
          : data,
      );
      return;
    case 'conversation.updated':
      void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversations });
      void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversation(event.conversationId) });
      return;
    case 'notification.new':
      queryClient.setQueryData(NOTIFICATIONS_UNREAD, { count: event.unreadCount });
      void queryClient.invalidateQueries({ queryKey: NOTIFICATIONS_LIST });
      return;
    case 'feed.new':
      feedNews.set(feedNews.count + event.count);
      return;
    default:
      return;
  }
}

/**
 * Starts realtime for whoever is signed in (and stops it on sign-out): one hub per user, the
 * socket in the leader tab. Called once, after the first paint, by the app shell.
 */
export function startRealtime(queryClient: QueryClient, session: AuthSession): () => void {
  let unsubscribe: (() => void) | undefined;
  const sync = () => {
    const state = session.getState();
    const next = state.status === 'signedIn' ? state.user.id : undefined;
    if (next === me) return;
    unsubscribe?.();
    hub?.stop();
    hub = undefined;
    me = next;
    feedNews.set(0);
    chatStore.reset();
    if (next) {
      hub = createHub(next);
      unsubscribe = hub.subscribe((event) => {
        chatStore.apply(event);
        applyToCaches(queryClient, event);
      });
      hub.start();
    }
    for (const l of hubListeners) l();
  };
  const retry = () => hub?.retryNow();
  const visible = () => {
    if (document.visibilityState === 'visible') retry();
  };
  // not the window's online/offline events alone: a browser may never send `online` (pwa/network.ts)
  const stopNetwork = onlineManager.subscribe((online) => {
    if (online) retry();
    else hub?.wentOffline();
  });
  document.addEventListener('visibilitychange', visible);
  const stopSession = session.subscribe(sync);
  sync();
  return () => {
    stopSession();
    stopNetwork();
    document.removeEventListener('visibilitychange', visible);
    unsubscribe?.();
    hub?.stop();
    hub = undefined;
    me = undefined;
  };
}
