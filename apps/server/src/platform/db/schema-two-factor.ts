import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type BigIntColumn = ColumnType<string, number | string | bigint | undefined, number | string | bigint>;

/** TOTP and the second-factor lock of one user (0035). */
export interface TwoFactorTable {
  user_id: string;
  totp_secret: string | null;
  totp_enabled_at: NullableTimestamp;
  totp_pending_secret: string | null;
  totp_last_step: ColumnType<string | null, number | string | null | undefined, number | string | null>;
  failures: Generated<number>;
  locked_until: NullableTimestamp;
  updated_at: Generated<Date>;
}

/** Single-use recovery codes, hashed (0035). */
export interface RecoveryCodesTable {
  user_id: string;
  code_hash: Buffer;
  created_at: Generated<Date>;
  used_at: NullableTimestamp;
}

/** WebAuthn credentials (0035). */
export interface PasskeysTable {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  counter: BigIntColumn;
  transports: ColumnType<string[], string[] | undefined, string[]>;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
  created_at: Generated<Date>;
  last_used_at: NullableTimestamp;
}

/** Second-factor login steps and WebAuthn ceremonies (0035). */
export interface AuthChallengesTable {
  token_hash: Buffer;
  purpose: 'second_factor' | 'passkey_register' | 'passkey_login';
  user_id: string | null;
  webauthn_challenge: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

/** Devices a user signed in from, hashed (0035). */
export interface KnownDevicesTable {
  user_id: string;
  device_hash: Buffer;
  first_seen_at: Generated<Date>;
  last_seen_at: Generated<Date>;
}

export interface TwoFactorTables {
  two_factor: TwoFactorTable;
  recovery_codes: RecoveryCodesTable;
  passkeys: PasskeysTable;
  auth_challenges: AuthChallengesTable;
  known_devices: KnownDevicesTable;
}
