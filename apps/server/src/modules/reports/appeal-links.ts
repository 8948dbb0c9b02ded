import { createHmac, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../platform/errors.ts';

/** How long the link in a ban notice lets its user read the decision and appeal (30 days). */
const LINK_DAYS = 30;

/**
 * Signed links for a banned user, who can no longer sign in, to read a decision and appeal it: the
 * token is `<expires>.<HMAC of case, user and expiry>`, keyed by a key derived (HKDF) from the
 * token signing key, so every instance verifies every link.
 */
export class AppealLinks {
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  sign(caseId: string, userId: string): string {
    const expires = Math.floor(this.now() / 1000) + LINK_DAYS * 86_400;
    return `${expires}.${this.signature(caseId, userId, expires)}`;
  }

  /** Throws INVALID_LINK unless the token is this server's, for this case and user, and not expired. */
  verify(caseId: string, userId: string | null, token: string): void {
    const [expiresText, sig = ''] = token.split('.');
    const expires = Number(expiresText);
    const expected = userId && Number.isSafeInteger(expires) ? this.signature(caseId, userId, expires) : '';
    const valid =
      expected !== '' &&
      sig.length === expected.length &&
      timingSafeEqual(Buffer.from(sig), Buffer.from(expected)) &&
      expires * 1000 > this.now();
    if (!valid) throw new AppError('INVALID_LINK');
  }

  private signature(caseId: string, userId: string, expires: number): string {
    return createHmac('sha256', this.key).update(`appeal:${caseId}:${userId}:${expires}`).digest('base64url');
  }
}

export function appealLinks(signingKey: KeyObject): AppealLinks {
  const material = signingKey.export({ format: 'der', type: 'pkcs8' });
  return new AppealLinks(Buffer.from(hkdfSync('sha256', material, 'kith', 'moderation-appeal-link', 32)));
}
