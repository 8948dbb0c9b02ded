import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';

export interface PasskeyRow {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  counter: string;
  transports: string[];
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  backed_up: boolean;
}

const COLUMNS = [
  'id',
  'user_id',
  'credential_id',
  'public_key',
  'counter',
  'transports',
  'name',
  'created_at',
  'last_used_at',
  'backed_up',
] as const;

/** passkeys: a user's WebAuthn credentials. */
export class PasskeysRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(passkey: {
    id: string;
    userId: string;
    credentialId: string;
    publicKey: Buffer;
    counter: number;
    transports: string[];
    deviceType: 'singleDevice' | 'multiDevice';
    backedUp: boolean;
    name: string;
  }): Promise<PasskeyRow | undefined> {
    return this.db
      .insertInto('passkeys')
      .values({
        id: passkey.id,
        user_id: passkey.userId,
        credential_id: passkey.credentialId,
        public_key: passkey.publicKey,
        counter: passkey.counter,
        transports: passkey.transports,
        device_type: passkey.deviceType,
        backed_up: passkey.backedUp,
        name: passkey.name,
      })
      .onConflict((oc) => oc.column('credential_id').doNothing())
      .returning(COLUMNS)
      .executeTakeFirst();
  }

  async listOf(userId: string): Promise<PasskeyRow[]> {
    return this.db
      .selectFrom('passkeys')
      .select(COLUMNS)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .limit(100)
      .execute();
  }

  async count(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async byCredentialId(credentialId: string): Promise<PasskeyRow | undefined> {
    return this.db
      .selectFrom('passkeys')
      .select(COLUMNS)
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
  }

  /** Records a use; the signature counter only moves forward. */
  async used(id: string, counter: number): Promise<void> {
    await this.db
      .updateTable('passkeys')
      .set({ counter: sql<string>`greatest(counter, ${counter})`, last_used_at: sql<Date>`now()` })
      .where('id', '=', id)
      .execute();
  }

  async rename(userId: string, id: string, name: string): Promise<PasskeyRow | undefined> {
    return this.db
      .updateTable('passkeys')
      .set({ name })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .returning(COLUMNS)
      .executeTakeFirst();
  }

  async remove(userId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('passkeys')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
