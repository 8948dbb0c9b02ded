import type { StoredVariant, VariantName } from '../../platform/db/schema-media.ts';
import type { Storage } from '../../platform/storage/storage.ts';
import type { UrlSigner } from '../../platform/storage/url-signer.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
const DAY = 86_400;
/** SigV4 presigned URLs live at most 7 days. */
const S3_MAX_EXPIRY = 7 * DAY;

export interface VariantUrl {
  url: string;
  /** Unix seconds; undefined when the URL never expires. */
  expires: number | undefined;
}

/** The path of a variant served by Kith itself (embedded shape). */
export const variantPath = (mediaId: string, name: VariantName) => `/api/v1/media/${mediaId}/${name}.webp`;
/** What a disk URL's signature covers. */
export const signedResource = (mediaId: string, name: VariantName) => `media:${mediaId}/${name}`;
export const contentDisposition = (mediaId: string, name: VariantName) =>
  `inline; filename="${mediaId}-${name}.webp"`;

/**
 * URLs of variants. Public media (on a live public post) get URLs that never change, cached for a
 * year. Private media get expiring signed URLs: HMAC-signed paths to Kith on disk, presigned GETs
 * on S3. Expiry times are aligned to windows so that everyone asking within one window gets the
 * same URL, and browsers and CDNs can cache it.
 */
export class MediaUrls {
  constructor(
    private readonly storage: Storage,
    private readonly signer: Promise<UrlSigner>,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async variant(
    mediaId: string,
    name: VariantName,
    variant: StoredVariant,
    isPublic: boolean,
  ): Promise<VariantUrl> {
    const nowSeconds = Math.floor(this.now() / 1000);
    if (this.storage.presignGet) {
      // S3: even public media are presigned (the bucket stays private), signed at the start of a
      // day so the URL is stable for a day and valid for at least six more
      const window = isPublic ? DAY : Math.max(1, Math.floor(this.ttlSeconds / 2));
      const expiresIn = isPublic ? S3_MAX_EXPIRY : this.ttlSeconds;
      const signedAt = Math.floor(nowSeconds / window) * window;
      const url = await this.storage.presignGet(variant.key, {
        expiresIn,
        signedAt: new Date(signedAt * 1000),
        contentType: 'image/webp',
        contentDisposition: contentDisposition(mediaId, name),
        cacheControl: isPublic ? IMMUTABLE : `private, max-age=${expiresIn - (nowSeconds - signedAt)}`,
      });
      return { url, expires: isPublic ? undefined : signedAt + expiresIn };
    }
    const path = variantPath(mediaId, name);
    if (isPublic) return { url: path, expires: undefined };
    // valid between half the TTL and the whole of it
    const half = Math.max(1, Math.floor(this.ttlSeconds / 2));
    const expires = Math.floor(nowSeconds / half) * half + this.ttlSeconds;
    const sig = (await this.signer).sign(signedResource(mediaId, name), expires);
    return { url: `${path}?${new URLSearchParams({ expires: String(expires), sig })}`, expires };
  }
}
