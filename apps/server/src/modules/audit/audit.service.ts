import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { cursorPart, decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import { type AuditInsert, AuditRepository, type AuditRow } from './audit.repository.ts';

/** Who made a request, as recorded next to what they did. */
export interface RequestMeta {
  ip: string;
  userAgent: string;
}

export type AuditAction =
  | 'auth.signup'
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.refresh_token_reuse'
  | 'auth.logout'
  | 'auth.logout_all'
  | 'auth.password_change'
  | 'auth.session_revoke'
  | 'auth.password_reset_request'
  | 'auth.password_reset'
  | 'auth.email_verify'
  | 'auth.email_change_request'
  | 'auth.email_change'
  | 'auth.email_change_undo'
  | 'auth.two_factor_enable'
  | 'auth.two_factor_disable'
  | 'auth.recovery_codes_regenerate'
  | 'auth.recovery_code_used'
  | 'auth.second_factor_failed'
  | 'auth.second_factor_locked'
  | 'auth.passkey_add'
  | 'auth.passkey_rename'
  | 'auth.passkey_remove'
  | 'admin.role_change'
  | 'admin.ban'
  | 'admin.create_admin'
  | 'moderation.post_remove'
  | 'moderation.content_restore'
  | 'moderation.report_resolve'
  | 'moderation.appeal'
  | 'moderation.suspension_end'
  | 'account.delete'
  | 'account.erase'
  | 'account.export'
  | 'flag.create'
  | 'flag.update'
  | 'flag.delete';

export interface AuditEvent {
  action: AuditAction;
  actorId: string | null;
  target?: { type: string; id: string };
  meta: RequestMeta;
  details?: Record<string, unknown>;
}

export interface AuditPage {
  items: AuditRow[];
  nextCursor: string | null;
}

const toCursor = (row: AuditRow) => encodeCursor('audit-log', [row.at_us, row.id]);

/** The cursor module's checked parts: a forged time or id is a 400 INVALID_CURSOR before any SQL. */
function fromCursor(cursor: string): { atUs: string; id: string } {
  const [atUs, id] = decodeCursor('audit-log', cursor, [cursorPart.micros, cursorPart.uuid]);
  return { atUs, id };
}

/** Writes and pages the append-only audit log. */
export class AuditService {
  private readonly repo: AuditRepository;

  constructor(db: Kysely<DB>) {
    this.repo = new AuditRepository(db);
  }

  /** Records an event; pass the caller's transaction so the entry commits (or not) with the change. */
  async record(event: AuditEvent, trx?: Kysely<DB>): Promise<void> {
    const entry: AuditInsert = {
      action: event.action,
      actorId: event.actorId,
      targetType: event.target?.type ?? null,
      targetId: event.target?.id ?? null,
      ip: event.meta.ip.slice(0, 64) || null,
      userAgent: event.meta.userAgent.slice(0, 512) || null,
      details: event.details ?? {},
    };
    await this.repo.insert(entry, trx);
  }

  async list(cursor: string | undefined, limit: number): Promise<AuditPage> {
    const rows = await this.repo.page(cursor ? fromCursor(cursor) : undefined, limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? toCursor(last) : null };
  }
}
