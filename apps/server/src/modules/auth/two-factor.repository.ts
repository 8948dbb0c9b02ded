import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';

export interface TwoFactorRow {
  totp_secret: string | null;
  totp_enabled_at: Date | null;
  totp_pending_secret: string | null;
  failures: number;
  locked_until: Date | null;
  /** locked_until is in the future (Postgres's clock). */
  locked: boolean;
}

/** two_factor and recovery_codes: a user's TOTP, recovery codes and second-factor lock. */
export class TwoFactorRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async get(userId: string, db: Kysely<DB> = this.db): Promise<TwoFactorRow | undefined> {
    return db
      .selectFrom('two_factor')
      .select([
        'totp_secret',
        'totp_enabled_at',
        'totp_pending_secret',
        'failures',
        'locked_until',
        sql<boolean>`coalesce(locked_until > now(), false)`.as('locked'),
      ])
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  /** Locks the user's row (creating it) so concurrent changes of their 2FA run one at a time. */
  async lock(userId: string, trx: Kysely<DB>): Promise<TwoFactorRow> {
    await trx
      .insertInto('two_factor')
      .values({ user_id: userId })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
    const row = await trx
      .selectFrom('two_factor')
      .select([
        'totp_secret',
        'totp_enabled_at',
        'totp_pending_secret',
        'failures',
        'locked_until',
        sql<boolean>`coalesce(locked_until > now(), false)`.as('locked'),
      ])
      .where('user_id', '=', userId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    return row;
  }

  async setPending(userId: string, secret: string, trx: Kysely<DB>): Promise<void> {
    await trx
      .updateTable('two_factor')
      .set({ totp_pending_secret: secret, updated_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .execute();
  }

  /** Turns the pending secret on; the step of the confirming code counts as used. */
  async enable(userId: string, step: number, trx: Kysely<DB>): Promise<void> {
    await trx
      .updateTable('two_factor')
      .set({
        totp_secret: sql<string>`totp_pending_secret`,
        totp_pending_secret: null,
        totp_enabled_at: sql<Date>`now()`,
        totp_last_step: step,
        failures: 0,
        updated_at: sql<Date>`now()`,
      })
      .where('user_id', '=', userId)
      .where('totp_pending_secret', 'is not', null)
      .execute();
  }

  async disable(userId: string, trx: Kysely<DB>): Promise<void> {
    await trx
      .updateTable('two_factor')
      .set({
        totp_secret: null,
        totp_enabled_at: null,
        totp_pending_secret: null,
        totp_last_step: null,
        updated_at: sql<Date>`now()`,
      })
      .where('user_id', '=', userId)
      .execute();
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  }

  /**
   * Accepts a TOTP time step once: true when it is newer than every step accepted before. One
   * statement, so two requests with the same code cannot both pass.
   */
  async useStep(userId: string, step: number, db: Kysely<DB> = this.db): Promise<boolean> {
    const result = await db
      .updateTable('two_factor')
      .set({ totp_last_step: step })
      .where('user_id', '=', userId)
      .where('totp_enabled_at', 'is not', null)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', String(step))]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Replaces the user's recovery codes. */
  async replaceRecoveryCodes(userId: string, hashes: Buffer[], trx: Kysely<DB>): Promise<void> {
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    await trx
      .insertInto('recovery_codes')
      .values(hashes.map((code_hash) => ({ user_id: userId, code_hash })))
      .execute();
  }

  /** Uses a recovery code: true once per code (one statement: no two requests both pass). */
  async useRecoveryCode(userId: string, hash: Buffer, db: Kysely<DB> = this.db): Promise<boolean> {
    const result = await db
      .updateTable('recovery_codes')
      .set({ used_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Counts a wrong second factor; at `max` the account is locked for `lockMinutes` and the count
   * starts again. Returns whether this failure locked it.
   */
  async fail(userId: string, max: number, lockMinutes: number): Promise<boolean> {
    await this.db
      .insertInto('two_factor')
      .values({ user_id: userId })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
    const row = await this.db
      .updateTable('two_factor')
      .set({
        failures: sql<number>`CASE WHEN failures + 1 >= ${max} THEN 0 ELSE failures + 1 END`,
        locked_until: sql<Date>`CASE WHEN failures + 1 >= ${max}
          THEN now() + make_interval(mins => ${lockMinutes}::int) ELSE locked_until END`,
      })
      .where('user_id', '=', userId)
      .returning(sql<boolean>`failures = 0`.as('locked_now'))
      .executeTakeFirstOrThrow();
    return row.locked_now;
  }

  /** A right second factor: the count of wrong ones starts again. */
  async succeed(userId: string, db: Kysely<DB> = this.db): Promise<void> {
    await db
      .updateTable('two_factor')
      .set({ failures: 0 })
      .where('user_id', '=', userId)
      .where('failures', '>', 0)
      .execute();
  }
}
