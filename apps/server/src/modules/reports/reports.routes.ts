import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { responses } from '../../platform/http/schemas.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import type { ModerationService } from './moderation.service.ts';
import {
  AppealBody,
  AppealByLinkBody,
  CaseParams,
  CreateReportBody,
  ModerationNotice,
  NoticeLinkQuery,
  ReportReceipt,
} from './reports.schema.ts';
import type { ReportsService } from './reports.service.ts';

const security = [{ bearerAuth: [] }];
const HOUR = 3_600_000;

/** Reports any user files, and the reported user's view of a decision (read it, appeal it once). */
export async function reportsRoutes(
  app: FastifyInstance,
  deps: { reports: ReportsService; moderation: ModerationService; perHour: number },
) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'Report a post, comment, chat message or user',
        description:
          'The reporter must be able to see the thing (404 otherwise). Reports on the same thing fold into one case; ' +
          'a second report by the same user answers 200 with `duplicate: true` and changes nothing. The note is plain text.',
        operationId: 'createReport',
        security,
        body: CreateReportBody,
        response: responses({ 200: ReportReceipt, 201: ReportReceipt }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'reports', limit: deps.perHour, windowMs: HOUR, by: 'user' as const }] },
    },
    async (request, reply) => {
      const receipt = await deps.reports.report(caller(request).userId, request.body);
      return reply.code(receipt.duplicate ? 200 : 201).send(receipt);
    },
  );

  r.get(
    '/moderation/notices/:id',
    {
      schema: {
        tags: ['reports'],
        summary: 'A moderation decision about me: what, why, and whether I may appeal',
        operationId: 'getModerationNotice',
        security,
        params: CaseParams,
        response: responses({ 200: ModerationNotice }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => deps.moderation.notice(caller(request).userId, request.params.id),
  );

  r.post(
    '/moderation/notices/:id/appeal',
    {
      schema: {
        tags: ['reports'],
        summary: 'Appeal a moderation decision about me (once); another moderator reviews it',
        operationId: 'appealModerationDecision',
        security,
        params: CaseParams,
        body: AppealBody,
        response: responses({ 200: ModerationNotice }, 401, 404, 409),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'appeals', limit: 10, windowMs: HOUR, by: 'user' as const }] },
    },
    async (request) => {
      const { userId } = caller(request);
      await deps.moderation.appeal(userId, request.params.id, request.body.text, requestMeta(request));
      return deps.moderation.notice(userId, request.params.id);
    },
  );

  // A banned account cannot sign in: the ban notice's link carries a signed token instead.
  const byLinkLimit = [{ name: 'appeal-links', limit: 30, windowMs: HOUR, by: 'ip' as const }];
  r.get(
    '/moderation/notices/:id/by-link',
    {
      schema: {
        tags: ['reports'],
        summary: 'A ban decision, read through the signed link of its notice (no session)',
        operationId: 'getModerationNoticeByLink',
        params: CaseParams,
        querystring: NoticeLinkQuery,
        response: responses({ 200: ModerationNotice }, 403, 404),
      },
      config: { rateLimit: byLinkLimit },
    },
    async (request) => deps.moderation.noticeByLink(request.params.id, request.query.token),
  );

  r.post(
    '/moderation/notices/:id/appeal-by-link',
    {
      schema: {
        tags: ['reports'],
        summary: 'Appeal a ban through the signed link of its notice (once; no session)',
        operationId: 'appealModerationDecisionByLink',
        params: CaseParams,
        body: AppealByLinkBody,
        response: responses({ 200: ModerationNotice }, 403, 404, 409),
      },
      config: { rateLimit: byLinkLimit },
    },
    async (request) =>
      deps.moderation.appealByLink(
        request.params.id,
        request.body.token,
        request.body.text,
        requestMeta(request),
      ),
  );
}
