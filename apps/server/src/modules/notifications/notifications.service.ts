import { uuidv7 } from 'uuidv7';
import type { Broker } from '../../platform/broker/broker.ts';
import type { NotificationKind } from '../../platform/db/schema-social.ts';
import { AppError } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { NotificationsRepository } from './notifications.repository.ts';
import { type NotificationView, presentNotification } from './notifications.schema.ts';

/** The channel a user's live events go to; the realtime gateway subscribes per connected user. */
export const userChannel = (userId: string) => `user.${userId}`;

export interface NewNotification {
  kind: NotificationKind;
  userId: string;
  actorId: string;
  subjectId?: string;
  data?: Record<string, string>;
}

/** Who may notify whom (the friends module answers). */
export interface BlockCheck {
  isBlockedEitherWay(a: string, b: string): Promise<boolean>;
}

/** Kinds folded into one unread notification per subject ("A and 3 others reacted"). */
const GROUPED: ReadonlySet<NotificationKind> = new Set(['reaction']);

/** Told of each notification created or grouped into (Web Push), after it is committed. */
export type NotificationListener = (userId: string, notification: NotificationView) => Promise<unknown>;

/** Stored notifications, created by jobs, read through cursor pages, pushed live through the broker. */
export class NotificationsService {
  private readonly listeners: NotificationListener[] = [];

  constructor(
    private readonly repo: NotificationsRepository,
    private readonly blocks: BlockCheck,
    private readonly broker: Broker,
    private readonly logger: Logger,
  ) {}

  /**
   * Job: never to oneself, never across a block, never from someone the recipient muted (the
   * repository's insert checks the mute). Returns the notification id, if one was made.
   */
  async create(n: NewNotification): Promise<string | undefined> {
    if (n.userId === n.actorId || (await this.blocks.isBlockedEitherWay(n.userId, n.actorId)))
      return undefined;
    const id = await this.repo.upsert({
      id: uuidv7(),
      userId: n.userId,
      kind: n.kind,
      groupKey: GROUPED.has(n.kind) && n.subjectId ? `${n.kind}:${n.subjectId}` : null,
      actorId: n.actorId,
      subjectId: n.subjectId ?? null,
      data: n.data ?? {},
    });
    if (id !== undefined) await this.deliver(id, n.userId);
    return id;
  }

  /**
   * Job: a notice from Kith itself (a report's outcome, a moderation decision). No other user is its
   * actor (the recipient stands in, so no moderator is named), it is never grouped, and a block
   * does not stop it.
   */
  async createNotice(n: {
    kind: 'report_resolved' | 'moderation_notice';
    userId: string;
    subjectId: string;
    data: Record<string, string>;
  }): Promise<string> {
    const id = await this.repo.upsert({
      id: uuidv7(),
      userId: n.userId,
      kind: n.kind,
      groupKey: null,
      actorId: n.userId,
      subjectId: n.subjectId,
      data: n.data,
    });
    // the actor is the recipient, whom no one can mute for themselves: always stored
    await this.deliver(id!, n.userId);
    return id!;
  }

  /** Adds a listener told of every notification created (or grouped into) from now on. */
  onCreated(listener: NotificationListener): void {
    this.listeners.push(listener);
  }

  private async deliver(id: string, userId: string): Promise<void> {
    const row = await this.repo.find(id);
    if (row) {
      const notification = presentNotification(row);
      // Live delivery is best effort: the row is committed, and clients catch up from the list.
      await this.broker
        .publish(userChannel(userId), {
          type: 'notification.new',
          notification,
          unreadCount: await this.repo.unreadCount(userId),
        })
        .catch((err) => this.logger.warn({ err }, 'notification publish failed'));
      for (const listener of this.listeners)
        await listener(userId, notification).catch((err) =>
          this.logger.warn({ err }, 'notification listener failed'),
        );
    }
  }

  async list(userId: string, cursor: string | undefined, limit: number) {
    const after = cursor ? decodeCursor('notifications', cursor, ['micros', 'uuid']) : undefined;
    const rows = await this.repo.page(
      userId,
      after ? { updatedUs: String(after[0]), id: String(after[1]) } : undefined,
      limit,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(presentNotification),
      ...(rows.length > limit && last
        ? { nextCursor: encodeCursor('notifications', [last.updated_us, last.id]) }
        : {}),
    };
  }

  unreadCount(userId: string): Promise<number> {
    return this.repo.unreadCount(userId);
  }

  /** Marks read every notification up to `upTo` (inclusive, in list order). */
  async markRead(userId: string, upTo: string): Promise<{ marked: number; unreadCount: number }> {
    if (!(await this.repo.exists(userId, upTo))) throw new AppError('NOT_FOUND', 'No such notification.');
    const marked = await this.repo.markRead(userId, upTo);
    return { marked, unreadCount: await this.repo.unreadCount(userId) };
  }
}
