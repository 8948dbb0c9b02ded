import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signatures over a resource and an expiry time: the signed URL itself is the
 * credential, for `<img src>` that cannot send a bearer token. Shared by every instance through
 * MEDIA_SIGNING_SECRET.
 */
export class UrlSigner {
  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  /** The signature of `resource` valid until `expires` (Unix seconds). */
  sign(resource: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${resource}\n${expires}`).digest('base64url');
  }

  /** Whether `sig` is this secret's signature of (resource, expires) and it has not expired. */
  verify(resource: string, expires: number, sig: string): boolean {
    const expected = Buffer.from(this.sign(resource, expires));
    const given = Buffer.from(sig);
    return (
      given.length === expected.length && timingSafeEqual(given, expected) && expires * 1000 > this.now()
    );
  }
}
