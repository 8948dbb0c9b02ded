import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../platform/errors.ts';

/** Expiring, HMAC-signed download links for data exports: the link itself is the credential. */
export class ExportLinks {
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  /** A link to export `id` valid until `expiresAt` (whole seconds). */
  sign(id: string, expiresAt: Date): { url: string; expiresAt: Date } {
    const expires = Math.floor(expiresAt.getTime() / 1000);
    const query = new URLSearchParams({ expires: String(expires), sig: this.signature(id, expires) });
    return { url: `/api/v1/me/export/${id}/download?${query}`, expiresAt: new Date(expires * 1000) };
  }

  /** Throws INVALID_LINK unless `sig` is this server's signature of (id, expires) and it has not expired. */
  verify(id: string, expires: number, sig: string): void {
    const expected = Buffer.from(this.signature(id, expires));
    const given = Buffer.from(sig);
    const valid = given.length === expected.length && timingSafeEqual(given, expected);
    if (!valid || expires * 1000 <= this.now()) throw new AppError('INVALID_LINK');
  }

  private signature(id: string, expires: number): string {
    return createHmac('sha256', this.key).update(`data-export:${id}:${expires}`).digest('base64url');
  }
}
