import type { Platform } from '../../platform/platform.ts';
import type { UserDirectory } from '../friends/friends.service.ts';
import type { MediaService } from '../media/media.service.ts';
import { ChatRepository } from './chat.repository.ts';
import { ChatService } from './chat.service.ts';
import { ConversationsRepository } from './conversations.repository.ts';
import { type ChatFriends, ConversationsService } from './conversations.service.ts';

/**
 * The chat services (part of the composition root, `buildServices`: one ChatService, with its one
 * send batcher, for the REST routes and the realtime gateway alike): `chat` (messages, read markers,
 * resume) and `conversations` (creation, listing, membership). Messages carry media of `media` (the
 * social services' MediaService), which learns from chat who may see a message's.
 */
export function buildChatServices(
  platform: Platform,
  friends: ChatFriends,
  users: UserDirectory,
  media: MediaService,
) {
  const db = platform.db.primary;
  const chat = new ChatService(platform.db, new ChatRepository(db), platform.broker, platform.logger, media, {
    send: platform.config.chat.send,
    metrics: platform.metrics,
  });
  // chat presents media and media ask chat who may see a message's: the cycle is closed here, once
  media.messages = { canSeeMessage: (viewerId, messageId) => chat.canSeeMessage(viewerId, messageId) };
  const conversations = new ConversationsService(
    platform.db,
    new ConversationsRepository(db),
    chat,
    friends,
    users,
    platform.config.chat,
  );
  return { chat, conversations };
}

export type ChatServices = ReturnType<typeof buildChatServices>;
