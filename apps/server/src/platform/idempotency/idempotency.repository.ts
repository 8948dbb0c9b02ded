import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IdempotencyRecord {
  requestHash: string;
  state: 'running' | 'done';
  response: StoredResponse | undefined;
}

/** Idempotency-Key records in Postgres: claimed while a request runs, then the response it gave. */
export class IdempotencyRepository {
  constructor(private readonly db: Db) {}

  /**
   * Claims `key` for a new run. Succeeds when the key is new, when its record has expired, or when a
   * run of the same request died holding the lock (its `locked_until` has passed). One statement, so
   * two concurrent claims cannot both win.
   */
  async claim(input: {
    scope: string;
    key: string;
    requestHash: string;
    lockSeconds: number;
    ttlHours: number;
  }): Promise<boolean> {
    const lockedUntil = sql<Date>`now() + make_interval(secs => ${input.lockSeconds})`;
    const expiresAt = sql<Date>`now() + make_interval(hours => ${input.ttlHours})`;
    const row = await this.db
      .insertInto('idempotency_keys')
      .values({
        scope: input.scope,
        key: input.key,
        request_hash: input.requestHash,
        state: 'running',
        locked_until: lockedUntil,
        expires_at: expiresAt,
      })
      .onConflict((oc) =>
        oc
          .columns(['scope', 'key'])
          .doUpdateSet({
            request_hash: input.requestHash,
            state: 'running',
            response_status: null,
            response_headers: null,
            response_body: null,
            created_at: sql<Date>`now()`,
            locked_until: lockedUntil,
            expires_at: expiresAt,
          })
          .where((eb) =>
            eb.or([
              eb('idempotency_keys.expires_at', '<=', sql<Date>`now()`),
              eb.and([
                eb('idempotency_keys.state', '=', 'running'),
                eb('idempotency_keys.locked_until', '<=', sql<Date>`now()`),
                eb('idempotency_keys.request_hash', '=', input.requestHash),
              ]),
            ]),
          ),
      )
      .returning('key')
      .executeTakeFirst();
    return row !== undefined;
  }

  async find(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'state', 'response_status', 'response_headers', 'response_body'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      requestHash: row.request_hash,
      state: row.state,
      response:
        row.state === 'done' && row.response_status !== null
          ? {
              status: row.response_status,
              headers: row.response_headers ?? {},
              body: row.response_body ?? '',
            }
          : undefined,
    };
  }

  /** Stores the response of the run that holds the claim. */
  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({
        state: 'done',
        response_status: response.status,
        response_headers: JSON.stringify(response.headers),
        response_body: response.body,
      })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('state', '=', 'running')
      .execute();
  }

  /** Forgets a claim whose run failed on our side, so the client may retry with the same key. */
  async release(scope: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('state', '=', 'running')
      .execute();
  }
}
