import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { responses } from '../../platform/http/schemas.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { caller, requireRole } from '../auth/authenticate.ts';
import type { ModerationService } from './moderation.service.ts';
import { CaseDetail, CaseParams, QueuePage, QueueQuery, ResolveBody } from './reports.schema.ts';

const security = [{ bearerAuth: [] }];
const tags = ['moderation'];
const staff = requireRole('moderator', 'admin');

/** The moderation queue (moderators and admins; 403 to others). */
export async function moderationRoutes(
  app: FastifyInstance,
  { moderation }: { moderation: ModerationService },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/moderation/cases',
    {
      schema: {
        tags,
        summary: 'Report cases, oldest first (moderator or admin)',
        operationId: 'listReportCases',
        security,
        querystring: QueueQuery,
        response: responses({ 200: QueuePage }, 401, 403),
      },
      onRequest: staff,
    },
    async (request) => {
      const { status = 'open', reason, targetType, cursor, limit = 20 } = request.query;
      return moderation.list({ status, reason, targetType }, cursor, limit);
    },
  );

  r.get(
    '/moderation/cases/:id',
    {
      schema: {
        tags,
        summary: 'A report case: the snapshot, its reports and the current state (moderator or admin)',
        operationId: 'getReportCase',
        security,
        params: CaseParams,
        response: responses({ 200: CaseDetail }, 401, 403, 404),
      },
      onRequest: staff,
    },
    async (request) => moderation.detail(caller(request), request.params.id),
  );

  r.post(
    '/moderation/cases/:id/resolve',
    {
      schema: {
        tags,
        summary: 'Decide a report case: dismiss, remove, warn, suspend or ban; an appeal: uphold or overturn',
        description:
          'Refused (403) on a case the moderator reported, on their own content, on the decision they made ' +
          'when it is under appeal, and on staff content unless an admin; 409 when the case is resolved already.',
        operationId: 'resolveReportCase',
        security,
        params: CaseParams,
        body: ResolveBody,
        response: responses({ 200: CaseDetail }, 401, 403, 404, 409),
      },
      onRequest: staff,
    },
    async (request) => {
      const actor = caller(request);
      await moderation.resolve(actor, request.params.id, request.body, requestMeta(request));
      return moderation.detail(actor, request.params.id);
    },
  );
}
