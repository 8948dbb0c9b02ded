import type { Readable } from 'node:stream';
import type { VariantName } from '../../platform/db/schema-media.ts';
import { AppError } from '../../platform/errors.ts';
import type { Storage } from '../../platform/storage/storage.ts';
import type { UrlSigner } from '../../platform/storage/url-signer.ts';
import type { MediaRepository } from './media.repository.ts';
import { contentDisposition, IMMUTABLE, signedResource } from './media-urls.ts';

export interface OpenedVariant {
  body: Readable;
  size: number;
  etag: string;
  contentType: 'image/webp';
  contentDisposition: string;
  cacheControl: string;
}

/**
 * Serves variants from storage (the embedded shape; with S3 the URLs point at S3 itself). A public
 * medium's URL needs nothing more; a private one's must carry a valid, unexpired signature.
 * Originals are never served: what leaves Kith has always been re-encoded.
 */
export class MediaFilesService {
  constructor(
    private readonly repo: MediaRepository,
    private readonly storage: Storage,
    private readonly signer: Promise<UrlSigner>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the signature checks, before any database work (a forged URL costs one HMAC). */
  async checkSignature(id: string, name: VariantName, query: { expires?: number; sig?: string }) {
    if (query.sig === undefined && query.expires === undefined) return 'unsigned' as const;
    if (query.sig === undefined || query.expires === undefined) throw new AppError('INVALID_LINK');
    if (!(await this.signer).verify(signedResource(id, name), query.expires, query.sig)) {
      throw new AppError('INVALID_LINK');
    }
    return 'signed' as const;
  }

  async open(
    id: string,
    name: VariantName,
    query: { expires?: number; sig?: string },
  ): Promise<OpenedVariant> {
    const signature = await this.checkSignature(id, name, query);
    const row = await this.repo.findServable(id);
    const variant = row?.status === 'ready' ? row.variants[name] : undefined;
    if (!row || !variant) throw new AppError('NOT_FOUND', 'No such media.');
    if (signature === 'unsigned' && !row.public) throw new AppError('INVALID_LINK');
    const object = await this.storage.read(variant.key);
    if (!object) throw new AppError('NOT_FOUND', 'No such media.');
    const remaining = Math.max(0, (query.expires ?? 0) - Math.floor(this.now() / 1000));
    return {
      body: object.body,
      size: object.size,
      etag: `"${variant.etag}"`,
      contentType: 'image/webp',
      contentDisposition: contentDisposition(id, name),
      cacheControl: signature === 'signed' ? `private, max-age=${remaining}` : IMMUTABLE,
    };
  }
}
