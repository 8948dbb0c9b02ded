import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface RoleRule {
  roles: string[];
  variant: string;
}
export interface RolloutStep {
  variant: string;
  percent: number;
}

export interface FeatureFlagsTable {
  key: string;
  description: ColumnType<string, string | undefined, string>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  variants: Json<Record<string, unknown>>;
  default_variant: string;
  role_rules: Json<RoleRule[]>;
  rollout: Json<RolloutStep[]>;
  client_visible: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FlagTables {
  feature_flags: FeatureFlagsTable;
}
