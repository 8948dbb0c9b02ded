import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { responses } from '../../platform/http/schemas.ts';
import { AuditLogPage, AuditLogQuery, presentAuditEntry } from '../audit/audit.schema.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { caller, requireRole } from '../auth/authenticate.ts';
import { AdminUser, presentAdminUser } from '../users/users.schema.ts';
import { SetRoleBody, UserParams } from './admin.schema.ts';
import type { AdminService } from './admin.service.ts';

const authenticated = [{ bearerAuth: [] }];

/**
 * /api/v1/admin. A caller without the role gets 403 FORBIDDEN (these routes are documented in
 * the public OpenAPI document, so hiding them behind a 404 would protect nothing).
 */
export async function adminRoutes(
  app: FastifyInstance,
  { admin, audit }: { admin: AdminService; audit: AuditService },
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/users/:id/role',
    {
      schema: {
        tags: ['admin'],
        summary: "Change a user's role (admin)",
        operationId: 'setUserRole',
        security: authenticated,
        params: UserParams,
        body: SetRoleBody,
        response: responses({ 200: AdminUser }, 401, 403, 404),
      },
      onRequest: requireRole('admin'),
    },
    async (request) =>
      presentAdminUser(
        await admin.setRole(caller(request), request.params.id, request.body.role, requestMeta(request)),
      ),
  );

  r.post(
    '/users/:id/ban',
    {
      schema: {
        tags: ['admin'],
        summary: 'Ban a user and revoke all their sessions (moderator or admin)',
        operationId: 'banUser',
        security: authenticated,
        params: UserParams,
        response: responses({ 200: AdminUser }, 401, 403, 404),
      },
      onRequest: requireRole('moderator', 'admin'),
    },
    async (request) =>
      presentAdminUser(await admin.ban(caller(request), request.params.id, requestMeta(request))),
  );

  r.get(
    '/audit-log',
    {
      schema: {
        tags: ['admin'],
        summary: 'The audit log, newest first (admin)',
        operationId: 'listAuditLog',
        security: authenticated,
        querystring: AuditLogQuery,
        response: responses({ 200: AuditLogPage }, 401, 403),
      },
      onRequest: requireRole('admin'),
    },
    async (request) => {
      const page = await audit.list(request.query.cursor, request.query.limit ?? 50);
      return { items: page.items.map(presentAuditEntry), nextCursor: page.nextCursor };
    },
  );
}
