import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { DB, UserRole } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { type UserRow, UsersRepository } from './users.repository.ts';

export interface NewAccount {
  username: string;
  email: string;
  displayName?: string | undefined;
  passwordHash: string;
  role?: UserRole;
}

export interface UsersServiceOptions {
  /**
   * How long `get` may answer an account from this instance's memory (0: always from Postgres).
   * Every write through this service drops the entry at once; a write made elsewhere (another
   * instance, the admin CLI) is seen within this time.
   */
  profileTtlMs?: number;
  now?: () => number;
}

/** `GET /me` on every app start and tab: read through a short per-instance cache. */
const PROFILE_TTL_MS = 5_000;
const PROFILE_MAX_ENTRIES = 10_000;

/**
 * Accounts by id, kept briefly per instance (see docs/cache-policy.md, "Profiles"). An epoch
 * counter keeps a read that started before a write from being cached after it.
 */
class ProfileCache {
  private readonly entries = new Map<string, { row: UserRow; at: number }>();
  private epoch = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async read(id: string, load: () => Promise<UserRow | undefined>): Promise<UserRow | undefined> {
    const entry = this.entries.get(id);
    if (entry && this.now() - entry.at < this.ttlMs) return entry.row;
    const epoch = this.epoch;
    const row = await load();
    if (row && epoch === this.epoch && this.ttlMs > 0) {
      this.entries.delete(id);
      this.entries.set(id, { row, at: this.now() });
      if (this.entries.size > PROFILE_MAX_ENTRIES)
        this.entries.delete(this.entries.keys().next().value as string);
    }
    return row;
  }

  forget(id: string): void {
    this.epoch += 1;
    this.entries.delete(id);
  }
}

/** Accounts: creation, profile, credentials, role and ban. */
export class UsersService {
  private readonly repo: UsersRepository;
  private readonly profiles: ProfileCache;

  constructor(db: Kysely<DB>, options: UsersServiceOptions = {}) {
    this.repo = new UsersRepository(db);
    this.profiles = new ProfileCache(options.profileTtlMs ?? PROFILE_TTL_MS, options.now ?? Date.now);
  }

  /** Usernames and e-mail addresses are stored lowercase; a taken one is USERNAME_TAKEN / EMAIL_TAKEN. */
  create(account: NewAccount, trx?: Kysely<DB>): Promise<UserRow> {
    const username = account.username.toLowerCase();
    return this.repo.insert(
      {
        id: uuidv7(),
        username,
        email: normalizeEmail(account.email),
        displayName: account.displayName ?? username,
        passwordHash: account.passwordHash,
        role: account.role,
      },
      trx,
    );
  }

  /** Whether the account is neither banned nor deactivated. */
  isActive(id: string): Promise<boolean> {
    return this.repo.isActive(id);
  }

  /** An active (not banned) user by username, for other modules (friends, posts). */
  async findActiveByUsername(username: string) {
    const row = await this.repo.findActiveByUsername(username);
    return row && { id: row.id, username: row.username, displayName: row.display_name };
  }

  /**
   * An account by id, read through this instance's short cache (the caller's own `/me` on every
   * start of the app). Exact for writes made through this service; up to `profileTtlMs` old for
   * writes made elsewhere. Rules that decide on the account's role or state use `getFresh`.
   */
  async get(id: string): Promise<UserRow> {
    const user = await this.profiles.read(id, () => this.repo.findById(id));
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  /** An account by id, from Postgres. */
  async getFresh(id: string): Promise<UserRow> {
    const user = await this.repo.findById(id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  /**
   * Drops the cached account: for callers whose transaction changed it through this service, once
   * it has committed (the write itself dropped it already, but a read racing the commit may have
   * cached the old row again).
   */
  forget(id: string): void {
    this.profiles.forget(id);
  }

  /** The account a login (username or e-mail) names, with its password hash. */
  credentials(login: string) {
    const normalized = login.includes('@') ? normalizeEmail(login) : login.trim().toLowerCase();
    return this.repo.credentials(normalized);
  }

  passwordHash(id: string): Promise<string | undefined> {
    return this.repo.passwordHash(id);
  }

  async updateProfile(id: string, changes: { displayName?: string; bio?: string }): Promise<UserRow> {
    const user = await this.repo.update(id, {
      ...(changes.displayName === undefined ? {} : { display_name: changes.displayName }),
      ...(changes.bio === undefined ? {} : { bio: changes.bio }),
    });
    this.profiles.forget(id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  async setPasswordHash(id: string, passwordHash: string, trx?: Kysely<DB>): Promise<void> {
    await this.repo.update(id, { password_hash: passwordHash }, trx);
  }

  /** Locks the account's row for the caller's transaction. */
  lockForUpdate(id: string, trx: Kysely<DB>): Promise<void> {
    return this.repo.lockForUpdate(id, trx);
  }

  /** Gives the account a new, verified address (proved by a mailed link); EMAIL_TAKEN if another has it. */
  async setVerifiedEmail(id: string, email: string, trx?: Kysely<DB>): Promise<boolean> {
    const done = await this.repo.setVerifiedEmail(id, normalizeEmail(email), trx);
    this.profiles.forget(id);
    return done;
  }

  /** Marks `email` verified if it is still the account's address; whether this call did it. */
  async markEmailVerified(id: string, email: string, trx?: Kysely<DB>): Promise<boolean> {
    const done = await this.repo.markEmailVerified(id, normalizeEmail(email), trx);
    this.profiles.forget(id);
    return done;
  }

  async setRole(id: string, role: UserRole, trx?: Kysely<DB>): Promise<UserRow> {
    const user = await this.repo.update(id, { role }, trx);
    this.profiles.forget(id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  async ban(id: string, trx?: Kysely<DB>): Promise<UserRow> {
    const user = await this.repo.update(id, { banned_at: new Date() }, trx);
    this.profiles.forget(id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  /** Suspends the account until `until` (it may read, not write: see reports/write-guard.ts). */
  async suspend(id: string, until: Date, trx?: Kysely<DB>): Promise<UserRow> {
    const user = await this.repo.update(id, { suspended_until: until }, trx);
    this.profiles.forget(id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  /** Lifts a suspension and a ban (an appeal overturned the decision). */
  async reinstate(id: string, trx?: Kysely<DB>): Promise<UserRow> {
    const user = await this.repo.update(id, { suspended_until: null, banned_at: null }, trx);
    this.profiles.forget(id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  /** Clears the suspensions whose time is over; the ids of those accounts. */
  async clearExpiredSuspensions(trx?: Kysely<DB>): Promise<string[]> {
    const ids = await this.repo.clearExpiredSuspensions(trx);
    for (const id of ids) this.profiles.forget(id);
    return ids;
  }

  /**
   * Deactivates a live account in the caller's transaction (it is then hidden like a banned one)
   * and sets when it is to be erased; undefined when it already was deactivated.
   */
  deactivate(trx: Kysely<DB>, id: string, retentionDays: number): Promise<Date | undefined> {
    this.profiles.forget(id);
    return this.repo.deactivate(trx, id, retentionDays);
  }

  /** A deactivated account's erasure time and whether it is due; undefined when not deactivated. */
  async erasureState(id: string): Promise<{ eraseAfter: Date; due: boolean } | undefined> {
    const state = await this.repo.erasureState(id);
    return state && { eraseAfter: state.erase_after, due: state.due };
  }

  /** Deletes a deactivated account whose erasure is due (everything it owns goes with it); false if none. */
  eraseDue(trx: Kysely<DB>, id: string): Promise<boolean> {
    this.profiles.forget(id);
    return this.repo.deleteDue(trx, id);
  }

  /** Marks the user active now; returns when they were last active before. */
  touchLastActive(id: string, trx?: Kysely<DB>): Promise<Date | undefined> {
    return this.repo.touchLastActive(id, trx);
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
