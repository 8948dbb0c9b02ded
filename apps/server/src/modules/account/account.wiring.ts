import { hkdfSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { UsersService } from '../users/users.service.ts';
import { AccountRepository } from './account.repository.ts';
import { ErasureService } from './erasure.service.ts';
import { ExportFiles } from './export-files.ts';
import { ExportLinks } from './export-links.ts';
import { DataExportsService } from './exports.service.ts';

/**
 * The account module's export and erasure services (the composition root adds AccountService,
 * which needs the sessions). `eraseStoredFiles` removes a user's stored media at erasure.
 */
export function buildAccountServices(
  platform: Platform,
  users: Pick<UsersService, 'erasureState' | 'eraseDue' | 'forget'>,
  audit: Pick<AuditService, 'record'>,
  eraseStoredFiles: (userId: string) => Promise<void>,
) {
  const db = platform.db.primary;
  const repo = new AccountRepository(db);
  const files = new ExportFiles(join(platform.config.dataDir, 'exports'));
  return {
    repo,
    exports: new DataExportsService(db, repo, files, audit),
    erasure: new ErasureService(db, repo, users, files, audit, eraseStoredFiles),
  };
}

/** Download links signed with a key derived from the token signing key (shared by every instance). */
export function exportLinks(signingKey: KeyObject): ExportLinks {
  const material = signingKey.export({ format: 'der', type: 'pkcs8' });
  return new ExportLinks(Buffer.from(hkdfSync('sha256', material, 'kith', 'data-export-link', 32)));
}
