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

/** Accounts: creation, profile, credentials, role and ban. */
export class UsersService {
  private readonly repo: UsersRepository;

  constructor(db: Kysely<DB>) {
    this.repo = new UsersRepository(db);
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

  async get(id: string): Promise<UserRow> {
    const user = await this.repo.findById(id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
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
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  async setPasswordHash(id: string, passwordHash: string, trx?: Kysely<DB>): Promise<void> {
    await this.repo.update(id, { password_hash: passwordHash }, trx);
  }

  async setRole(id: string, role: UserRole, trx?: Kysely<DB>): Promise<UserRow> {
    const user = await this.repo.update(id, { role }, trx);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  async ban(id: string, trx?: Kysely<DB>): Promise<UserRow> {
    const user = await this.repo.update(id, { banned_at: new Date() }, trx);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  /**
   * Deactivates a live account in the caller's transaction (it is then hidden like a banned one)
   * and sets when it is to be erased; undefined when it already was deactivated.
   */
  deactivate(trx: Kysely<DB>, id: string, retentionDays: number): Promise<Date | undefined> {
    return this.repo.deactivate(trx, id, retentionDays);
  }

  /** A deactivated account's erasure time and whether it is due; undefined when not deactivated. */
  async erasureState(id: string): Promise<{ eraseAfter: Date; due: boolean } | undefined> {
    const state = await this.repo.erasureState(id);
    return state && { eraseAfter: state.erase_after, due: state.due };
  }

  /** Deletes a deactivated account whose erasure is due (everything it owns goes with it); false if none. */
  eraseDue(trx: Kysely<DB>, id: string): Promise<boolean> {
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
