import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { Database } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { ConversationKind, MemberRole } from '../../platform/db/schema-chat.ts';
import { AppError } from '../../platform/errors.ts';
import { cursorPart, decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import { visibleText } from '../../platform/http/text.ts';
import type { FriendsService, UserDirectory, UserSummary } from '../friends/friends.service.ts';
import {
  type ConversationDetailView,
  type ConversationView,
  presentConversation,
  presentMember,
} from './chat.schema.ts';
import type { ChatService } from './chat.service.ts';
import type { ConversationsRepository } from './conversations.repository.ts';

/** What conversations need from the friends module. */
export type ChatFriends = Pick<FriendsService, 'areFriends' | 'isBlockedEitherWay' | 'friendIds'>;

export interface ConversationRules {
  /** Most members of a group, its creator included. */
  groupMaxMembers: number;
  /** Only friends may start a conversation with (or add) someone. */
  friendsOnly: boolean;
}

/** What a membership change needs of the caller: any membership, or admin to add / remove others. */
type Need = 'any' | 'add' | 'remove';

const notFound = () => new AppError('NOT_FOUND', 'No such conversation.');
const noSuchUser = (username: string) => new AppError('NOT_FOUND', 'No such user.', { username });

/** Conversations: creating direct and group ones, listing them, and group membership. */
export class ConversationsService {
  constructor(
    private readonly db: Database,
    private readonly repo: ConversationsRepository,
    private readonly chat: Pick<ChatService, 'publish' | 'mediaOf'>,
    private readonly friends: ChatFriends,
    private readonly users: UserDirectory,
    private readonly rules: ConversationRules,
  ) {}

  /**
   * One username and no title: the direct conversation with that user (the existing one when
   * there is one: `created` false). Otherwise a group the creator administers.
   */
  async create(
    userId: string,
    input: { usernames: string[]; title?: string | undefined },
  ): Promise<{ conversation: ConversationDetailView; created: boolean }> {
    const title = input.title === undefined ? undefined : visibleText(input.title, '/title');
    if (input.usernames.length + 1 > this.rules.groupMaxMembers) {
      throw new AppError('GROUP_FULL', undefined, { maxMembers: this.rules.groupMaxMembers });
    }
    const others = await this.resolve(userId, input.usernames);
    if (others.length === 1 && title === undefined) return this.openDirect(userId, others[0]!.id);

    const id = uuidv7();
    await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.insert(trx, {
        id,
        kind: 'group',
        title: title ?? null,
        directKey: null,
        createdBy: userId,
      });
      await this.repo.insertMembers(trx, id, [
        { userId, role: 'admin' },
        ...others.map((u) => ({ userId: u.id, role: 'member' as MemberRole })),
      ]);
    });
    await this.chat.publish([userId, ...others.map((u) => u.id)], {
      type: 'conversation.updated',
      conversationId: id,
    });
    return { conversation: await this.get(userId, id), created: true };
  }

  /** My conversations, latest activity first, each with its unread count and last message. */
  async list(
    userId: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ items: ConversationView[]; nextCursor?: string }> {
    let after: { activityUs: string; id: string } | undefined;
    if (cursor) {
      // range-checked before any SQL: a forged time is a 400 INVALID_CURSOR, never an overflow in Postgres
      const [activityUs, id] = decodeCursor('conversations', cursor, [cursorPart.micros, cursorPart.uuid]);
      after = { activityUs, id };
    }
    const rows = await this.repo.listForUser(userId, after, limit);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const media = await this.chat.mediaOf(items.flatMap((c) => (c.last_message ? [c.last_message] : [])));
    return {
      items: items.map((c) => presentConversation(c, media)),
      ...(rows.length > limit && last
        ? { nextCursor: encodeCursor('conversations', [last.activity_us, last.id]) }
        : {}),
    };
  }

  /** A conversation I am a member of, with its members. */
  async get(userId: string, conversationId: string): Promise<ConversationDetailView> {
    const [row, role, members] = await Promise.all([
      this.repo.findForUser(conversationId, userId),
      this.repo.roleOf(conversationId, userId),
      this.repo.members(conversationId),
    ]);
    if (!row || !role) throw notFound();
    const media = await this.chat.mediaOf(row.last_message ? [row.last_message] : []);
    return { ...presentConversation(row, media), myRole: role, members: members.map(presentMember) };
  }

  /**
   * A group admin adds a user (a friend of theirs when friends-only); `added` false when the user
   * was already a member.
   */
  async addMember(userId: string, conversationId: string, username: string) {
    // Checked (and the user looked up) outside the transaction, which must not wait for a second
    // pooled connection while it holds the conversation's lock; checked again under the lock.
    await this.requireGroupRole(userId, conversationId, 'add');
    const [target] = await this.resolve(userId, [username], { allowSelf: true });
    const added = await this.membershipWrite(userId, conversationId, 'add', async (trx) => {
      if (await this.repo.roleOf(conversationId, target!.id, trx)) return false;
      if ((await this.repo.countMembers(trx, conversationId)) >= this.rules.groupMaxMembers) {
        throw new AppError('GROUP_FULL', undefined, { maxMembers: this.rules.groupMaxMembers });
      }
      return this.repo.addMember(trx, conversationId, target!.id);
    });
    if (added) await this.announce(conversationId, [target!.id]);
    const member = (await this.repo.members(conversationId)).find((m) => m.user_id === target!.id);
    if (!member) throw noSuchUser(username);
    return { member: presentMember(member), added };
  }

  /**
   * Removes a member: admins remove anyone, anyone removes themself (leaves). When the last admin
   * leaves, the longest-standing member becomes admin. Direct conversations cannot be left.
   */
  async removeMember(userId: string, conversationId: string, username: string): Promise<void> {
    await this.requireGroupRole(userId, conversationId, 'any');
    const target = await this.users.findActiveByUsername(username);
    if (!target) throw noSuchUser(username);
    await this.membershipWrite(
      userId,
      conversationId,
      target.id === userId ? 'any' : 'remove',
      async (trx) => {
        if (!(await this.repo.removeMember(trx, conversationId, target.id))) {
          throw new AppError('NOT_FOUND', 'Not a member of this conversation.', { username });
        }
        await this.repo.ensureAdmin(trx, conversationId);
      },
    );
    await this.announce(conversationId, [target.id]);
  }

  /** The direct conversation of a pair, made on first use (one per pair, even under concurrency). */
  private async openDirect(userId: string, otherId: string) {
    const directKey = [userId, otherId].sort().join(':');
    let id = await this.repo.findDirect(directKey);
    let created = false;
    if (!id) {
      const fresh = uuidv7();
      id = await this.db.primary.transaction().execute(async (trx) => {
        const inserted = await this.repo.insert(trx, {
          id: fresh,
          kind: 'direct',
          title: null,
          directKey,
          createdBy: userId,
        });
        // a concurrent request made it first: the unique key answered, its row is committed
        if (!inserted) return this.repo.findDirect(directKey, trx);
        await this.repo.insertMembers(trx, fresh, [
          { userId, role: 'member' },
          { userId: otherId, role: 'member' },
        ]);
        created = true;
        return fresh;
      });
      if (!id) throw notFound();
      if (created)
        await this.chat.publish([userId, otherId], { type: 'conversation.updated', conversationId: id });
    }
    return { conversation: await this.get(userId, id), created };
  }

  /**
   * The users named, each one the caller may chat with: unknown or blocked either way → 404 for
   * that username; not a friend when friends-only → NOT_FRIENDS.
   */
  private async resolve(
    userId: string,
    usernames: readonly string[],
    { allowSelf = false } = {},
  ): Promise<UserSummary[]> {
    const friendIds = this.rules.friendsOnly ? new Set(await this.friends.friendIds(userId)) : undefined;
    const found = new Map<string, UserSummary>();
    for (const username of usernames) {
      const user = await this.users.findActiveByUsername(username);
      if (!user || (user.id !== userId && (await this.friends.isBlockedEitherWay(userId, user.id)))) {
        throw noSuchUser(username);
      }
      if (user.id === userId) {
        if (allowSelf) {
          found.set(user.id, user);
          continue;
        }
        throw new AppError(
          'BAD_REQUEST',
          'You are a member of your conversations already; list the others.',
          {
            username,
          },
        );
      }
      if (friendIds && !friendIds.has(user.id)) throw new AppError('NOT_FRIENDS', undefined, { username });
      found.set(user.id, user);
    }
    return [...found.values()];
  }

  /**
   * The caller's role in a group: 404 unless a current member, 400 for a direct conversation, 403
   * when `need` is an admin's action and the caller is not one.
   */
  private checkRole(kind: ConversationKind | undefined, role: MemberRole | undefined, need: Need): void {
    if (!kind || !role) throw notFound();
    if (kind === 'direct')
      throw new AppError('BAD_REQUEST', 'Direct conversations have exactly two members.');
    if (need !== 'any' && role !== 'admin') {
      throw new AppError('FORBIDDEN', `Only group admins ${need} members.`);
    }
  }

  private async requireGroupRole(userId: string, conversationId: string, need: Need): Promise<void> {
    const [row, role] = await Promise.all([
      this.repo.kindOf(conversationId),
      this.repo.roleOf(conversationId, userId),
    ]);
    this.checkRole(row, role, need);
  }

  /** Runs a membership change of a group under the conversation's row lock, the caller's role checked again. */
  private membershipWrite<T>(
    userId: string,
    conversationId: string,
    need: Need,
    write: (trx: Kysely<DB>) => Promise<T>,
  ): Promise<T> {
    return this.db.primary.transaction().execute(async (trx) => {
      const conversation = await this.repo.lock(trx, conversationId);
      const role = conversation && (await this.repo.roleOf(conversationId, userId, trx));
      this.checkRole(conversation?.kind, role, need);
      return write(trx);
    });
  }

  /** Tells the current members (and `also`, such as a removed member) that the conversation changed. */
  private async announce(conversationId: string, also: string[]): Promise<void> {
    const members = (await this.repo.members(conversationId)).map((m) => m.user_id);
    await this.chat.publish([...new Set([...members, ...also])], {
      type: 'conversation.updated',
      conversationId,
    });
  }
}
