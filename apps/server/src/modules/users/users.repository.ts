import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB, UserRole, UsersTable } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';

export type UserRow = Omit<Selectable<UsersTable>, 'password_hash'>;

const PUBLIC_COLUMNS = [
  'id',
  'username',
  'email',
  'display_name',
  'bio',
  'role',
  'banned_at',
  'created_at',
  'updated_at',
  'last_active_at',
  'deactivated_at',
  'erase_after',
  'email_verified_at',
  'suspended_until',
] as const;

export interface NewUser {
  id: string;
  username: string;
  email: string;
  displayName: string;
  passwordHash: string;
  role?: UserRole;
}

/** Maps the unique indexes of users (lower(username), lower(email)) to catalogue errors. */
function uniqueViolation(err: unknown): AppError | undefined {
  const pgErr = err as { code?: string; constraint?: string };
  if (pgErr.code !== '23505') return undefined;
  if (pgErr.constraint === 'users_username_key') return new AppError('USERNAME_TAKEN');
  if (pgErr.constraint === 'users_email_key') return new AppError('EMAIL_TAKEN');
  return undefined;
}

/** The users table. Password hashes leave it only through `credentials`. */
export class UsersRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(user: NewUser, db: Kysely<DB> = this.db): Promise<UserRow> {
    try {
      return await db
        .insertInto('users')
        .values({
          id: user.id,
          username: user.username,
          email: user.email,
          display_name: user.displayName,
          password_hash: user.passwordHash,
          role: user.role,
        })
        .returning(PUBLIC_COLUMNS)
        .executeTakeFirstOrThrow();
    } catch (err) {
      throw uniqueViolation(err) ?? err;
    }
  }

  /** An active (not banned, not deactivated) user by username, case-insensitively. */
  async findActiveByUsername(username: string) {
    return this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name'])
      .where(sql<string>`lower(username)`, '=', username.toLowerCase())
      .where('banned_at', 'is', null)
      .where('deactivated_at', 'is', null)
      .executeTakeFirst();
  }

  async isActive(id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', id)
      .where('banned_at', 'is', null)
      .where('deactivated_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').select(PUBLIC_COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  /** By username or e-mail (both stored lowercase), with the password hash, for logins. */
  async credentials(
    login: string,
  ): Promise<
    { id: string; password_hash: string; banned_at: Date | null; deactivated_at: Date | null } | undefined
  > {
    const column = login.includes('@') ? 'email' : 'username';
    return (
      this.db
        .selectFrom('users')
        .select(['id', 'password_hash', 'banned_at', 'deactivated_at'])
        // lower(...) so that the unique expression indexes serve the lookup
        .where(sql<string>`lower(${sql.ref(column)})`, '=', login.toLowerCase())
        .executeTakeFirst()
    );
  }

  async passwordHash(id: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.password_hash;
  }

  async update(
    id: string,
    changes: {
      display_name?: string;
      bio?: string;
      password_hash?: string;
      role?: UserRole;
      banned_at?: Date | null;
      suspended_until?: Date | null;
    },
    db: Kysely<DB> = this.db,
  ): Promise<UserRow | undefined> {
    return db
      .updateTable('users')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirst();
  }

  /** Clears every suspension whose time is over; the ids of those accounts (reports.expire-suspensions). */
  async clearExpiredSuspensions(db: Kysely<DB> = this.db, limit = 1000): Promise<string[]> {
    const rows = await db
      .updateTable('users')
      .set({ suspended_until: null, updated_at: new Date() })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('users')
          .select('id')
          .where('suspended_until', '<=', sql<Date>`now()`)
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Marks the address verified, if it is still the account's address and not verified yet;
   * returns whether this call did it.
   */
  async markEmailVerified(id: string, email: string, db: Kysely<DB> = this.db): Promise<boolean> {
    const row = await db
      .updateTable('users')
      .set({ email_verified_at: sql<Date>`now()`, updated_at: new Date() })
      .where('id', '=', id)
      .where(sql<string>`lower(email)`, '=', email.toLowerCase())
      .where('email_verified_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Sets the account's address, verified (the caller proved it with a mailed link); EMAIL_TAKEN
   * when another account has it.
   */
  async setVerifiedEmail(id: string, email: string, db: Kysely<DB> = this.db): Promise<boolean> {
    try {
      const row = await db
        .updateTable('users')
        .set({ email, email_verified_at: sql<Date>`now()`, updated_at: new Date() })
        .where('id', '=', id)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    } catch (err) {
      throw uniqueViolation(err) ?? err;
    }
  }

  /** Locks the account's row until the caller's transaction ends (serialises per-account work). */
  async lockForUpdate(id: string, trx: Kysely<DB>): Promise<void> {
    await trx.selectFrom('users').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  /** Sets last_active_at to now; returns the value it had before. */
  async touchLastActive(id: string, db: Kysely<DB> = this.db): Promise<Date | undefined> {
    // the FROM row is the version before this UPDATE
    const row = await db
      .updateTable('users as u')
      .from('users as before')
      .set({ last_active_at: sql<Date>`now()` })
      .whereRef('before.id', '=', 'u.id')
      .where('u.id', '=', id)
      .returning('before.last_active_at as previous')
      .executeTakeFirst();
    return row?.previous;
  }

  /** Deactivates a live account; returns when it is to be erased (undefined if already deactivated). */
  async deactivate(trx: Kysely<DB>, id: string, retentionDays: number): Promise<Date | undefined> {
    const row = await trx
      .updateTable('users')
      .set({
        deactivated_at: sql<Date>`now()`,
        erase_after: sql<Date>`now() + make_interval(days => ${retentionDays})`,
      })
      .where('id', '=', id)
      .where('deactivated_at', 'is', null)
      .returning('erase_after')
      .executeTakeFirst();
    return row?.erase_after ?? undefined;
  }

  /** When a deactivated account is to be erased and whether that is now (by the database's clock). */
  async erasureState(id: string): Promise<{ erase_after: Date; due: boolean } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['erase_after', sql<boolean>`erase_after <= now()`.as('due')])
      .where('id', '=', id)
      .where('deactivated_at', 'is not', null)
      .executeTakeFirst();
    return row?.erase_after ? { erase_after: row.erase_after, due: row.due } : undefined;
  }

  /** Deletes a deactivated account that is due for erasure; ON DELETE CASCADE takes what it owns. */
  async deleteDue(trx: Kysely<DB>, id: string): Promise<boolean> {
    const result = await trx
      .deleteFrom('users')
      .where('id', '=', id)
      .where('deactivated_at', 'is not', null)
      .where('erase_after', '<=', sql<Date>`now()`)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
