import { AccountService } from './modules/account/account.service.ts';
import { buildAccountServices, exportLinks } from './modules/account/account.wiring.ts';
import { AdminService } from './modules/admin/admin.service.ts';
import { AuditService } from './modules/audit/audit.service.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { authKit } from './modules/auth/auth-kit.ts';
import { EmailChangeService } from './modules/auth/email-change.service.ts';
import { EmailVerificationService } from './modules/auth/email-verification.service.ts';
import { PasskeysService } from './modules/auth/passkeys.service.ts';
import { PasswordResetService } from './modules/auth/password-reset.service.ts';
import { SessionsService } from './modules/auth/sessions.service.ts';
import { SignInNotices } from './modules/auth/sign-in-notice.ts';
import { twoFactorMetrics } from './modules/auth/two-factor.metrics.ts';
import { TwoFactorService } from './modules/auth/two-factor.service.ts';
import { buildChatServices } from './modules/chat/chat.wiring.ts';
import { FeedNewNotifier } from './modules/feed/feed-new.ts';
import { FlagsService } from './modules/flags/flags.service.ts';
import { MutesRepository } from './modules/mutes/mutes.repository.ts';
import { MutesService } from './modules/mutes/mutes.service.ts';
import { ProfilesRepository } from './modules/profiles/profiles.repository.ts';
import { ProfilesService } from './modules/profiles/profiles.service.ts';
import { PushService } from './modules/push/push.service.ts';
import { buildPushDelivery } from './modules/push/push.wiring.ts';
import { appealLinks } from './modules/reports/appeal-links.ts';
import { ModerationService } from './modules/reports/moderation.service.ts';
import { buildReportServices } from './modules/reports/reports.wiring.ts';
import { RumService } from './modules/rum/rum.service.ts';
import { buildSocialServices } from './modules/social.ts';
import { UsersService } from './modules/users/users.service.ts';
import { BackupService } from './platform/backup/backup.service.ts';
import { MailService } from './platform/mail/mail.service.ts';
import { createMailer } from './platform/mail/mailer.ts';
import type { Platform } from './platform/platform.ts';
import { createPasswordHasher } from './platform/security/passwords.ts';
import { Presence } from './realtime/presence.ts';
import { TicketsRepository } from './realtime/tickets.repository.ts';
import { Tickets } from './realtime/tickets.ts';

/**
 * The services that need no signing key: everything the jobs use. Part of `buildServices`; built
 * alone only where a caller holds a platform and no process (a test or benchmark running one job).
 */
export function buildDomainServices(platform: Platform) {
  const db = platform.db.primary;
  const audit = new AuditService(db);
  const users = new UsersService(db);
  const social = buildSocialServices(platform, users, audit);
  const chat = buildChatServices(platform, social.friends, users, social.media.media);
  // profile pages and user search are lag-tolerant reads (a replica within the bound; see replica-router.ts)
  const profiles = new ProfilesService(new ProfilesRepository(platform.db.reads), social.friends);
  const account = buildAccountServices(platform, users, audit, (userId) =>
    social.media.jobs.deleteAllOf(userId),
  );
  const backups = new BackupService({
    config: platform.config,
    databaseUrl: platform.databaseUrl,
    storage: social.media.storage,
    logger: platform.logger,
  });
  const mail = new MailService(createMailer(platform.config, platform.logger), platform.metrics);
  const reports = buildReportServices(platform, {
    users,
    audit,
    posts: social.posts,
    friends: social.friends,
    chat: chat.chat,
  });
  const mutes = new MutesService(new MutesRepository(db), users, (userId) =>
    social.feed.invalidate([userId]),
  );
  const push = buildPushDelivery(platform);
  return {
    db: platform.db,
    audit,
    users,
    social,
    chat,
    profiles,
    account,
    backups,
    mail,
    reports,
    mutes,
    push,
  };
}

/**
 * The composition root: every service of the process, built once from the platform (each takes
 * exactly what it uses). `server.ts` hands the same object to the REST routes and the WebSocket
 * gateway (`buildApp`) and to the job runner (`jobHandlers`), so a chat message sent over REST and
 * one sent over a socket go through the same ChatService and its one send batcher.
 */
export async function buildServices(platform: Platform) {
  const { config } = platform;
  const db = platform.db.primary;
  // signing keys are loaded (or, in development, generated) here, once
  const kit = await authKit(platform);
  const domain = buildDomainServices(platform);
  const { audit, users, social } = domain;
  const sessions = new SessionsService({
    db,
    tokens: kit.tokens,
    cache: kit.sessions,
    audit,
    refreshTtlDays: config.jwt.refreshTtlDays,
  });
  const passwords = createPasswordHasher(config.argon2);
  const { mail } = domain;
  const emailVerification = new EmailVerificationService({
    db,
    users,
    sessions,
    audit,
    mail,
    publicUrl: config.publicUrl,
  });
  const passwordReset = new PasswordResetService({
    db,
    users,
    sessions,
    audit,
    passwords,
    mail,
    publicUrl: config.publicUrl,
  });
  const emailChange = new EmailChangeService({
    db,
    users,
    sessions,
    audit,
    passwords,
    mail,
    publicUrl: config.publicUrl,
  });
  // 2FA and passkeys (issue 14): the second step of a login, and new-device notices
  const authMetrics = twoFactorMetrics(platform.metrics.registry);
  const passkeys = new PasskeysService({
    db,
    users,
    passwords,
    audit,
    metrics: authMetrics,
    publicUrl: config.publicUrl,
  });
  const twoFactor = new TwoFactorService({
    db,
    users,
    audit,
    passwords,
    passkeys,
    metrics: authMetrics,
    ...config.twoFactor,
  });
  const signIns = new SignInNotices({ mail, publicUrl: config.publicUrl, metrics: authMetrics });
  const auth = new AuthService({
    secondFactor: twoFactor,
    signIns,
    verification: emailVerification,
    db,
    users,
    sessions,
    audit,
    passwords,
    tokens: kit.tokens,
    refreshSecret: kit.keys.refreshSecret,
    refreshTtlDays: config.jwt.refreshTtlDays,
    feedInactiveDays: config.social.feedInactiveDays,
  });
  const admin = new AdminService({ db, users, sessions, audit });
  // feature flags: loaded before the first request, reloaded on every change (see FlagStore)
  const flags = new FlagsService({ db, broker: platform.broker, audit, logger: platform.logger });
  await flags.start();
  // fan-out tells readers of new posts live (feed.new), coalesced and gated by a flag per reader
  const feedNew = new FeedNewNotifier({
    broker: platform.broker,
    flags,
    logger: platform.logger,
    registry: platform.metrics.registry,
    windowMs: config.social.feedNewWindowMs,
  });
  social.feed.onFanOut(async (readers, authorId) => {
    // a reader who muted the author is not told (the entry is stored; their feed page hides it)
    const ids = readers.map((r) => r.id);
    const told = new Set(await domain.mutes.notMuting(authorId, ids).catch(() => ids));
    feedNew.added(
      readers.filter((r) => told.has(r.id)),
      authorId,
    );
  });
  const rum = new RumService(platform.metrics.registry);
  const account = {
    ...domain.account,
    account: new AccountService({
      db,
      users,
      passwords,
      sessions,
      audit,
      feeds: social.feed,
      friends: social.friends,
      retentionDays: config.social.accountRetentionDays,
    }),
    links: exportLinks(kit.keys.privateKey),
  };
  const realtime = {
    presence: new Presence(
      platform.cache,
      platform.broker,
      social.friends,
      config.realtime.presenceTtlSeconds,
      platform.logger,
    ),
    tickets: new Tickets(new TicketsRepository(db), config.realtime.ticketTtlSeconds),
  };
  // Web Push: a new notification goes to the user's subscribed devices while no socket of theirs is live
  const push = new PushService({
    repo: domain.push.repo,
    delivery: domain.push.delivery,
    vapid: domain.push.vapid,
    flags,
    isConnected: (userId) => realtime.presence.isConnected(userId),
    allowInternal: config.push.allowPrivateEndpoints,
  });
  social.notifications.onCreated((userId, notification) => push.notified(userId, notification));
  // moderation bans through AdminService and removes content through its owners' services
  const moderation = new ModerationService({
    db,
    repo: domain.reports.repo,
    users,
    sessions,
    staff: admin,
    content: {
      post: (actor, postId, caseId, meta) => social.posts.removeByDecision(actor, postId, caseId, meta),
      comment: (commentId, caseId) => social.comments.removeByDecision(commentId, caseId),
      message: (messageId, caseId) => domain.chat.chat.removeByDecision(messageId, caseId),
      restore: {
        post: (trx, postId, caseId) => social.posts.restoreRemoved(trx, postId, caseId),
        comment: (trx, commentId, caseId) => social.comments.restoreRemoved(trx, commentId, caseId),
        message: (trx, messageId, caseId) => domain.chat.chat.restoreRemoved(trx, messageId, caseId),
      },
    },
    audit,
    mail,
    publicUrl: config.publicUrl,
    links: appealLinks(kit.keys.privateKey),
    metrics: domain.reports.metrics,
  });
  return {
    ...domain,
    reports: { ...domain.reports, moderation },
    kit,
    sessions,
    passwords,
    auth,
    passwordReset,
    emailVerification,
    emailChange,
    twoFactor,
    passkeys,
    admin,
    account,
    realtime,
    flags,
    rum,
    push: { ...domain.push, service: push },
  };
}

export type Services = Awaited<ReturnType<typeof buildServices>>;
/** What the job handlers use. */
export type JobServices = Pick<
  Services,
  'db' | 'social' | 'account' | 'backups' | 'mail' | 'reports' | 'mutes' | 'push'
>;
