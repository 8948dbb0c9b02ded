import { Counter, type Registry } from 'prom-client';

/** Second-factor logins by method and outcome, 2FA changes, new-device notices. */
export function twoFactorMetrics(registry: Registry) {
  // one set per registry, even when a second app is built on the same platform
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] });
  return {
    /** method: totp | recovery_code | passkey; outcome: success | failure | locked. */
    secondFactor: counter(
      'kith_auth_second_factor_total',
      'Second-factor login steps by method and outcome.',
      ['method', 'outcome'] as const,
    ),
    passkeyLogins: counter('kith_auth_passkey_logins_total', 'Password-less passkey sign-ins by outcome.', [
      'outcome',
    ] as const),
    changes: counter('kith_auth_two_factor_changes_total', 'Changes of 2FA settings by kind.', [
      'change',
    ] as const),
    newDeviceNotices: counter(
      'kith_auth_new_device_notices_total',
      'New-sign-in notices queued (a session from a device not seen before).',
      [] as const,
    ),
  };
}

export type TwoFactorMetrics = ReturnType<typeof twoFactorMetrics>;
