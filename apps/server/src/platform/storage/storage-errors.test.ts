import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { classifyDbError } from '../db/db-errors.ts';
import { AppError } from '../errors.ts';
import { classifyStorageError, StorageError, storageAppError, storageFailure } from './storage-errors.ts';

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });
const s3 = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

describe('storage failures', () => {
  it('tells a full store from an unreachable one, on disk and on S3', () => {
    expect(classifyStorageError(errno('ENOSPC'))).toBe('full');
    expect(classifyStorageError(errno('EDQUOT'))).toBe('full');
    expect(classifyStorageError(errno('ECONNREFUSED'))).toBe('unavailable');
    expect(classifyStorageError(errno('ECONNRESET'))).toBe('unavailable');
    expect(classifyStorageError(s3('XMinioStorageFull', 507))).toBe('full');
    expect(classifyStorageError(s3('SlowDown', 503))).toBe('unavailable');
    // a server error after the SDK's retries is no evidence of a full store (S3's transient
    // InternalError): retry later, never "full"
    expect(classifyStorageError(s3('InternalError', 500))).toBe('unavailable');
    expect(classifyStorageError(s3('AccessDenied', 403))).toBe('other');
  });

  it('leaves the body’s own refusals and configuration errors as they are', () => {
    const tooLarge = new AppError('MEDIA_TOO_LARGE');
    expect(storageFailure(tooLarge, 'put')).toBe(tooLarge);
    const denied = s3('AccessDenied', 403);
    expect(storageFailure(denied, 'put')).toBe(denied);
  });

  it('answers 507 or 503 with Retry-After, and is never taken for a database failure', () => {
    const full = storageFailure(errno('ENOSPC'), 'put') as StorageError;
    const down = storageFailure(errno('ECONNREFUSED'), 'put') as StorageError;
    expect(full).toBeInstanceOf(StorageError);
    expect(storageAppError(full)).toMatchObject({ code: 'MEDIA_STORAGE_FULL', statusCode: 507 });
    expect(storageAppError(down)).toMatchObject({
      code: 'MEDIA_STORAGE_UNAVAILABLE',
      statusCode: 503,
      headers: { 'retry-after': '5' },
    });
    expect(classifyDbError(down)).toBe('other');
    expect(classifyDbError(full)).toBe('other');
  });
});
