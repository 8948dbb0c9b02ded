import { type Kysely, sql } from 'kysely';
import type { AccountTokensTable, DB } from '../../platform/db/schema.ts';

export type AccountTokenPurpose = AccountTokensTable['purpose'];

/** account_tokens: single-use tokens mailed to an account (password reset, e-mail verification). */
export class AccountTokensRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(
    token: { hash: Buffer; purpose: AccountTokenPurpose; userId: string; email: string; ttlMinutes: number },
    db: Kysely<DB> = this.db,
  ): Promise<void> {
    await db
      .insertInto('account_tokens')
      .values({
        token_hash: token.hash,
        purpose: token.purpose,
        user_id: token.userId,
        email: token.email,
        expires_at: sql<Date>`now() + make_interval(mins => ${token.ttlMinutes}::int)`,
      })
      .execute();
  }

  /** Tokens of this purpose issued to the user within the last `minutes` (used or not). */
  async countRecent(
    userId: string,
    purpose: AccountTokenPurpose,
    minutes: number,
    db: Kysely<DB> = this.db,
  ): Promise<number> {
    const row = await db
      .selectFrom('account_tokens')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('created_at', '>', sql<Date>`now() - make_interval(mins => ${minutes}::int)`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Uses a token: marks it used if it is of this purpose, unused and unexpired, and returns whose
   * it was. One statement, so two requests with the same token cannot both succeed.
   */
  async claim(
    hash: Buffer,
    purpose: AccountTokenPurpose,
    db: Kysely<DB>,
  ): Promise<{ user_id: string; email: string } | undefined> {
    return db
      .updateTable('account_tokens')
      .set({ used_at: sql<Date>`now()` })
      .where('token_hash', '=', hash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .returning(['user_id', 'email'])
      .executeTakeFirst();
  }

  /** Uses up every outstanding token of this purpose of the user (after one of them served). */
  async retireAll(userId: string, purpose: AccountTokenPurpose, db: Kysely<DB>): Promise<void> {
    await db
      .updateTable('account_tokens')
      .set({ used_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .execute();
  }

  /** Removes tokens expired for more than a day (the cleanup job). */
  async deleteExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('account_tokens')
      .where('expires_at', '<', sql<Date>`now() - interval '1 day'`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
