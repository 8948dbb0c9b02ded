import type { ChatMessage } from '@kith/contract';

/** What the gateway needs from the chat module (ChatService fits it). */
export interface ChatPort {
  send(
    userId: string,
    input: { conversationId: string; clientMessageId: string; body?: string; mediaIds?: string[] },
  ): Promise<{ message: ChatMessage; duplicate: boolean }>;
  missedSince(
    userId: string,
    positions: Record<string, number>,
    limitPerConversation: number,
  ): Promise<{
    conversations: { conversationId: string; lastSeq: number; messages: ChatMessage[]; hasMore: boolean }[];
    unknown: string[];
  }>;
  conversationsOf(userId: string): Promise<{ conversationId: string; lastSeq: number }[]>;
  markRead(userId: string, conversationId: string, seq: number): Promise<unknown>;
  typing(userId: string, conversationId: string): Promise<string[]>;
}

/** What presence needs from the friends module. */
export interface FriendsPort {
  friendIds(userId: string): Promise<string[]>;
}

/** Session state, from the auth module's session cache (Postgres behind it). */
export interface SessionsPort {
  /** false when the session is gone, revoked, expired or its user banned. */
  isActive(sessionId: string, userId: string): Promise<boolean>;
}
