import { type Static, Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import type { AuditRow } from './audit.repository.ts';

export const AuditEntry = Type.Object(
  {
    id: Uuid,
    at: Timestamp,
    action: Type.String({ maxLength: 64 }),
    actorId: Type.Union([Uuid, Type.Null()]),
    targetType: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    targetId: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
    ip: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    userAgent: Type.Union([Type.String({ maxLength: 512 }), Type.Null()]),
    details: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()),
  },
  { additionalProperties: false },
);

export const AuditLogQuery = Type.Object(
  {
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);

export const AuditLogPage = Type.Object(
  {
    items: Type.Array(AuditEntry, { maxItems: 100 }),
    nextCursor: Type.Union([Cursor, Type.Null()]),
  },
  { additionalProperties: false },
);

export function presentAuditEntry(row: AuditRow): Static<typeof AuditEntry> {
  return {
    id: row.id,
    at: row.at.toISOString(),
    action: row.action,
    actorId: row.actor_id,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
  };
}
