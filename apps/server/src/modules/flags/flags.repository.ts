import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { FeatureFlagsTable } from '../../platform/db/schema-flags.ts';
import type { FlagDefinition } from './evaluate.ts';

export type FlagRow = Selectable<FeatureFlagsTable>;

export const toDefinition = (row: FlagRow): FlagDefinition => ({
  key: row.key,
  enabled: row.enabled,
  variants: row.variants,
  defaultVariant: row.default_variant,
  roleRules: row.role_rules,
  rollout: row.rollout,
  clientVisible: row.client_visible,
});

export interface FlagWrite {
  description: string;
  enabled: boolean;
  variants: Record<string, unknown>;
  defaultVariant: string;
  roleRules: FlagDefinition['roleRules'];
  rollout: FlagDefinition['rollout'];
  clientVisible: boolean;
}

/** feature_flags: the only code that reads or writes it. */
export class FlagsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  all(): Promise<FlagRow[]> {
    return this.db.selectFrom('feature_flags').selectAll().orderBy('key').execute();
  }

  find(key: string, trx: Kysely<DB> = this.db): Promise<FlagRow | undefined> {
    return trx.selectFrom('feature_flags').selectAll().where('key', '=', key).forUpdate().executeTakeFirst();
  }

  async upsert(key: string, flag: FlagWrite, trx: Kysely<DB>): Promise<FlagRow> {
    const values = {
      description: flag.description,
      enabled: flag.enabled,
      variants: JSON.stringify(flag.variants),
      default_variant: flag.defaultVariant,
      role_rules: JSON.stringify(flag.roleRules),
      rollout: JSON.stringify(flag.rollout),
      client_visible: flag.clientVisible,
    };
    return trx
      .insertInto('feature_flags')
      .values({ key, ...values })
      .onConflict((oc) => oc.column('key').doUpdateSet({ ...values, updated_at: sql`now()` }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async delete(key: string, trx: Kysely<DB>): Promise<boolean> {
    const res = await trx.deleteFrom('feature_flags').where('key', '=', key).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }
}
