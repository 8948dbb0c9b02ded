import type { ChatMessage, PresenceStatus, ServerMessage } from '@kith/contract';
import { MessageLog } from './message-log.ts';

/** How long "X is typing…" lasts after the last typing event (the server relays one per throttle). */
export const TYPING_SHOWN_MS = 6000;

/**
 * What this tab knows of chat beyond the HTTP caches: each conversation's messages (held once by
 * seq), the position to resume from, who is typing, friends' presence, and the other members'
 * read markers ("seen by"). Every screen reads it through `useChat`; a change bumps `version`.
 */
export class ChatStore {
  private readonly logs = new Map<string, MessageLog>();
  /** conversation → the highest seq this tab holds without a gap (sent as `resume`). */
  private readonly positions = new Map<string, number>();
  private readonly typing = new Map<string, Map<string, number>>();
  private readonly presence = new Map<string, PresenceStatus>();
  private readonly reads = new Map<string, Map<string, number>>();
  private readonly listeners = new Set<() => void>();
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  version = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  /** Another user signed in: nothing of the previous one's is kept. */
  reset(): void {
    this.logs.clear();
    this.positions.clear();
    this.typing.clear();
    this.presence.clear();
    this.reads.clear();
    this.changed();
  }

  log(conversationId: string): MessageLog {
    let log = this.logs.get(conversationId);
    if (!log) {
      log = new MessageLog();
      this.logs.set(conversationId, log);
    }
    return log;
  }

  /** Messages from any path (history, poll, socket); returns how many were new. */
  addMessages(conversationId: string, messages: readonly ChatMessage[]): number {
    if (messages.length === 0) return 0;
    const log = this.log(conversationId);
    const before = log.list();
    const added = log.add(messages);
    this.advance(conversationId, log.contiguous);
    if (log.list() !== before) this.changed();
    return added;
  }

  /**
   * A position known without the messages (the conversation list's last seq for a conversation
   * this tab has not opened): resume from there, not from the start.
   */
  knowPosition(conversationId: string, seq: number): void {
    if (!this.positions.has(conversationId)) this.positions.set(conversationId, seq);
  }

  resumePositions(): Record<string, number> {
    return Object.fromEntries(this.positions);
  }

  typingIn(conversationId: string): string[] {
    const now = this.now();
    return [...(this.typing.get(conversationId) ?? [])].filter(([, until]) => until > now).map(([id]) => id);
  }

  presenceOf(userId: string): PresenceStatus {
    return this.presence.get(userId) ?? 'offline';
  }

  /** Other members' read markers in a conversation (user id → last seq seen). */
  readsIn(conversationId: string): ReadonlyMap<string, number> {
    return this.reads.get(conversationId) ?? new Map();
  }

  setRead(conversationId: string, userId: string, seq: number): void {
    let map = this.reads.get(conversationId);
    if (!map) {
      map = new Map();
      this.reads.set(conversationId, map);
    }
    if ((map.get(userId) ?? -1) >= seq) return;
    map.set(userId, seq);
    this.changed();
  }

  /** A realtime event (every tab gets every event, in the leader's order). */
  apply(event: ServerMessage): void {
    switch (event.type) {
      case 'message.new':
        this.addMessages(event.message.conversationId, [event.message]);
        this.stopTyping(event.message.conversationId, event.message.senderId);
        return;
      case 'message.updated':
      case 'message.deleted':
        // only into a log already held: an edit of a message never seen is read with its page
        if (this.logs.has(event.message.conversationId)) {
          this.addMessages(event.message.conversationId, [event.message]);
        }
        return;
      case 'typing': {
        let map = this.typing.get(event.conversationId);
        if (!map) {
          map = new Map();
          this.typing.set(event.conversationId, map);
        }
        map.set(event.userId, this.now() + TYPING_SHOWN_MS);
        this.scheduleTypingExpiry();
        this.changed();
        return;
      }
      case 'presence':
        this.presence.set(event.userId, event.status);
        this.changed();
        return;
      case 'member.read':
        this.setRead(event.conversationId, event.userId, event.lastReadSeq);
        return;
      default:
        return;
    }
  }

  private advance(conversationId: string, seq: number) {
    if (seq > (this.positions.get(conversationId) ?? 0)) this.positions.set(conversationId, seq);
  }

  private stopTyping(conversationId: string, userId: string | null) {
    if (userId && this.typing.get(conversationId)?.delete(userId)) this.changed();
  }

  private scheduleTypingExpiry() {
    if (this.typingTimer) return;
    this.typingTimer = setTimeout(() => {
      this.typingTimer = undefined;
      const now = this.now();
      let any = false;
      for (const map of this.typing.values()) {
        for (const [id, until] of map) {
          if (until <= now) map.delete(id);
          else any = true;
        }
      }
      this.changed();
      if (any) this.scheduleTypingExpiry();
    }, 1000);
  }

  private changed() {
    this.version++;
    for (const listener of this.listeners) listener();
  }
}
