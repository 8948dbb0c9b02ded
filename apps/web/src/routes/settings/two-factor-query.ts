import { queryOptions } from '@tanstack/react-query';
import { api, call, type ResponseOf } from '../../api/client.ts';

export type TwoFactorStatus = ResponseOf<'/api/v1/auth/2fa', 'get'>;
export type Passkey = ResponseOf<'/api/v1/auth/passkeys', 'get'>['items'][number];

/** My 2FA settings: TOTP on or off, recovery codes left, passkeys, a sign-in lock. */
export const twoFactorQuery = queryOptions({
  queryKey: ['settings', 'two-factor'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/auth/2fa', { signal })),
});

/** My passkeys. */
export const passkeysQuery = queryOptions({
  queryKey: ['settings', 'passkeys'],
  queryFn: ({ signal }) => call(api.GET('/api/v1/auth/passkeys', { signal })),
});

/** A code as typed: six digits are an app code, anything else a recovery code. */
export function proofOf(value: string): { code: string } | { recoveryCode: string } {
  const trimmed = value.trim();
  return /^\d{6}$/.test(trimmed) ? { code: trimmed } : { recoveryCode: trimmed };
}
