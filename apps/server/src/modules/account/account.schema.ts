import { type Static, Type } from 'typebox';
import { Timestamp, Uuid } from '../../platform/http/schemas.ts';
import type { ExportRow } from './account.repository.ts';
import type { ExportLinks } from './export-links.ts';

/** How long a download link stays valid. */
export const LINK_TTL_MS = 60 * 60 * 1000;

export const DeleteAccountBody = Type.Object(
  {
    password: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'The current password, re-confirmed',
    }),
  },
  { additionalProperties: false },
);

export const DeletedAccount = Type.Object(
  {
    status: Type.Literal('deactivated'),
    eraseAfter: Type.String({
      format: 'date-time',
      maxLength: 40,
      description: 'When the account and its data are erased',
    }),
  },
  { additionalProperties: false },
);

export const DataExport = Type.Object(
  {
    id: Uuid,
    status: Type.Union([
      Type.Literal('pending'),
      Type.Literal('ready'),
      Type.Literal('failed'),
      Type.Literal('expired'),
    ]),
    createdAt: Timestamp,
    completedAt: Type.Union([Timestamp, Type.Null()]),
    sizeBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    download: Type.Union(
      [
        Type.Object(
          {
            url: Type.String({ maxLength: 300, description: 'Signed link; no Authorization header needed' }),
            expiresAt: Timestamp,
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'A fresh expiring link while the export is ready' },
    ),
    fileExpiresAt: Type.Union([Timestamp, Type.Null()], { description: 'When the archive is deleted' }),
  },
  { additionalProperties: false },
);

export const ExportParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const DownloadQuery = Type.Object(
  {
    expires: Type.Integer({ minimum: 0, maximum: 99_999_999_999 }),
    sig: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }),
  },
  { additionalProperties: false },
);

export function presentExport(
  row: ExportRow,
  links: ExportLinks,
  now = Date.now(),
): Static<typeof DataExport> {
  const ready = row.status === 'ready' && row.expires_at !== null;
  const linkExpiry = ready ? new Date(Math.min(now + LINK_TTL_MS, row.expires_at!.getTime())) : null;
  const link = linkExpiry ? links.sign(row.id, linkExpiry) : null;
  return {
    id: row.id,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    download: link && { url: link.url, expiresAt: link.expiresAt.toISOString() },
    fileExpiresAt: ready ? row.expires_at!.toISOString() : null,
  };
}
