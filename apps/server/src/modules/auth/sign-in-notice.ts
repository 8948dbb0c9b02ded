import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { UAParser } from 'ua-parser-js';
import type { DB } from '../../platform/db/schema.ts';
import type { MailService } from '../../platform/mail/mail.service.ts';
import type { RequestMeta } from '../audit/audit.service.ts';
import type { TwoFactorMetrics } from './two-factor.metrics.ts';

/** The coarse network of an address: its /24 (IPv4) or /48 (IPv6); '' when it is no address. */
export function coarseNetwork(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return '';
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 3)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/48`;
}

/** "Firefox on Linux": the user agent's browser and OS family (versions left out). */
export function deviceFamily(userAgent: string): string {
  const parsed = new UAParser(userAgent).getResult();
  const browser = parsed.browser.name ?? 'Unknown browser';
  return parsed.os.name ? `${browser} on ${parsed.os.name}` : browser;
}

export interface SignInNoticeDeps {
  mail: MailService;
  publicUrl: string;
  metrics: TwoFactorMetrics;
}

/**
 * Remembers the devices (browser family, OS, coarse network) a user signs in from and mails a
 * notice, with a link to the sessions page, when a session starts from one not seen before. The
 * first device of an account (sign-up, or the first sign-in after this feature came) is remembered
 * silently: there is nothing to compare it with.
 */
export class SignInNotices {
  constructor(private readonly deps: SignInNoticeDeps) {}

  /** In the transaction that starts the session: the mail is queued only if it commits. */
  async signedIn(
    trx: Kysely<DB>,
    user: { id: string; username: string; email: string },
    meta: RequestMeta,
    notify = true,
  ): Promise<boolean> {
    const device = deviceFamily(meta.userAgent);
    const network = coarseNetwork(meta.ip);
    const hash = createHash('sha256').update(`${device}\n${network}`).digest();
    const row = await trx
      .insertInto('known_devices')
      .values({ user_id: user.id, device_hash: hash })
      .onConflict((oc) => oc.columns(['user_id', 'device_hash']).doUpdateSet({ last_seen_at: sql`now()` }))
      // xmax = 0: this statement inserted the row (a new device)
      .returning([
        sql<boolean>`xmax = 0`.as('inserted'),
        sql<boolean>`EXISTS (SELECT 1 FROM known_devices k WHERE k.user_id = ${user.id} AND k.device_hash <> ${hash})`.as(
          'others',
        ),
      ])
      .executeTakeFirstOrThrow();
    if (!row.inserted || !row.others || !notify) return false;
    await this.deps.mail.queue(trx, 'new_sign_in', user.email, {
      username: user.username,
      device,
      network: network || 'unknown',
      at: new Date().toISOString(),
      link: `${this.deps.publicUrl}/settings#sessions`,
    });
    this.deps.metrics.newDeviceNotices.inc();
    return true;
  }
}
