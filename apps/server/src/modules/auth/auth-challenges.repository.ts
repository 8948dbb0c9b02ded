import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { AuthChallengesTable } from '../../platform/db/schema-two-factor.ts';

export type ChallengePurpose = AuthChallengesTable['purpose'];

/** auth_challenges: the second-factor step of a login and WebAuthn ceremonies, single-use and short-lived. */
export class AuthChallengesRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(challenge: {
    hash: Buffer;
    purpose: ChallengePurpose;
    userId: string | null;
    webauthnChallenge?: string;
    ttlSeconds: number;
  }): Promise<Date> {
    const row = await this.db
      .insertInto('auth_challenges')
      .values({
        token_hash: challenge.hash,
        purpose: challenge.purpose,
        user_id: challenge.userId,
        webauthn_challenge: challenge.webauthnChallenge ?? null,
        expires_at: sql<Date>`now() + make_interval(secs => ${challenge.ttlSeconds}::int)`,
      })
      .returning('expires_at')
      .executeTakeFirstOrThrow();
    return row.expires_at;
  }

  /** A live (unused, unexpired) challenge of this purpose. */
  async find(hash: Buffer, purpose: ChallengePurpose) {
    return this.db
      .selectFrom('auth_challenges')
      .select(['user_id', 'webauthn_challenge'])
      .where('token_hash', '=', hash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
  }

  /** Sets the WebAuthn challenge of a live second-factor step (a passkey is offered). */
  async setWebauthnChallenge(hash: Buffer, webauthnChallenge: string): Promise<boolean> {
    const result = await this.db
      .updateTable('auth_challenges')
      .set({ webauthn_challenge: webauthnChallenge })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Uses a live challenge: returns it once, undefined to every later (or racing) caller. */
  async claim(hash: Buffer, purpose: ChallengePurpose, db: Kysely<DB> = this.db) {
    return db
      .updateTable('auth_challenges')
      .set({ used_at: sql<Date>`now()` })
      .where('token_hash', '=', hash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .returning(['user_id', 'webauthn_challenge'])
      .executeTakeFirst();
  }

  /** Removes challenges expired for more than an hour (the hourly cleanup job). */
  async deleteExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('auth_challenges')
      .where('expires_at', '<', sql<Date>`now() - interval '1 hour'`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
