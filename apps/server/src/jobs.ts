import { sql } from 'kysely';
import type { Config } from './config.ts';
import { AccountTokensRepository } from './modules/auth/account-tokens.repository.ts';
import { AuthChallengesRepository } from './modules/auth/auth-challenges.repository.ts';
import type { Platform } from './platform/platform.ts';
import type { CronJob, JobHandlers } from './platform/queue/worker.ts';
import { buildDomainServices, type JobServices } from './services.ts';

/**
 * Every job handler, on the process's services (`buildServices`, the same instances the routes and
 * the gateway use). Given only a platform — a test or benchmark that runs one job — it builds the
 * services the jobs need for itself.
 */
export function jobHandlers(from: JobServices | Platform): JobHandlers {
  const { db, social, account, backups, mail, mutes, reports, push } =
    'social' in from ? from : buildDomainServices(from);
  return {
    'idempotency.cleanup': async () => {
      await db.primary.deleteFrom('idempotency_keys').where('expires_at', '<', sql<Date>`now()`).execute();
    },
    'sessions.cleanup': async () => {
      // refresh tokens go with their session (ON DELETE CASCADE)
      await db.primary
        .deleteFrom('sessions')
        .where((eb) =>
          eb.or([
            eb('expires_at', '<', sql<Date>`now()`),
            eb('revoked_at', '<', sql<Date>`now() - interval '30 days'`),
          ]),
        )
        .execute();
    },
    'feed.fan-out': async ({ postId }) => {
      await social.feed.fanOut(postId);
    },
    'feed.remove-author': ({ userId, authorId }) => social.feed.removeAuthor(userId, authorId),
    'feed.backfill': async ({ userId, authorId }) => {
      if (await social.friends.areFriends(userId, authorId)) await social.feed.backfill(userId, authorId);
    },
    'feed.rebuild': async ({ userId }) => social.feed.rebuild(userId, await social.friends.friendIds(userId)),
    'notifications.create': async (payload) => {
      await social.notifications.create(payload);
    },
    'notifications.notice': async (payload) => {
      await social.notifications.createNotice(payload);
    },
    'reports.expire-suspensions': async () => {
      await reports.expiry.run();
    },
    'notifications.mentions': async ({ postId, commentId }) => {
      const source = commentId
        ? await social.comments.mentionsOfComment(commentId)
        : await social.posts.mentionsOfPost(postId);
      await social.posts.notifyMentions(postId, source, async (userId, actorId) => {
        await social.notifications.create({
          kind: 'mention',
          userId,
          actorId,
          subjectId: postId,
          ...(commentId ? { data: { commentId } } : {}),
        });
      });
    },
    'tags.trending': () => social.posts.computeTrending(),
    'account.export': ({ exportId }, { attempts }) => account.exports.build(exportId, attempts),
    'account.erase': async ({ userId }) => {
      await account.erasure.erase(userId);
    },
    'account.exports-cleanup': async () => {
      await account.exports.expireOld();
    },
    'media.process': ({ mediaId }) => social.media.jobs.process(mediaId),
    'media.delete-attached': ({ kind, parentId }) => social.media.jobs.deleteAttached(kind, parentId),
    'media.cleanup': async () => {
      await social.media.jobs.sweep();
    },
    'backup.run': async () => {
      await backups.run();
    },
    'backup.verify': async () => {
      await backups.verify();
    },
    'mail.send': (job) => mail.send(job),
    'push.deliver': async (job) => {
      await push.delivery.deliver(job);
    },
    'mutes.cleanup': async () => {
      await mutes.deleteExpired();
    },
    'account-tokens.cleanup': async () => {
      await new AccountTokensRepository(db.primary).deleteExpired();
      await new AuthChallengesRepository(db.primary).deleteExpired();
    },
  };
}

/** The schedule: housekeeping always; backups and their drill once an operator set BACKUP_TARGET. */
export function cronJobs(config: Pick<Config, 'backup'>): CronJob[] {
  return [
    ...housekeeping,
    ...(config.backup.target
      ? [
          { task: 'backup.run' as const, schedule: config.backup.schedule },
          { task: 'backup.verify' as const, schedule: config.backup.verifySchedule },
        ]
      : []),
  ];
}

const housekeeping: CronJob[] = [
  { task: 'media.cleanup', schedule: '23 * * * *' },
  { task: 'idempotency.cleanup', schedule: '*/15 * * * *' },
  { task: 'sessions.cleanup', schedule: '17 * * * *' },
  // the write guard stops refusing at the exact time; this clears the column and tells the user
  { task: 'reports.expire-suspensions', schedule: '* * * * *' },
  { task: 'tags.trending', schedule: '*/10 * * * *' },
  { task: 'account.exports-cleanup', schedule: '41 * * * *' },
  { task: 'account-tokens.cleanup', schedule: '53 * * * *' },
  { task: 'mutes.cleanup', schedule: '7 * * * *' },
];
