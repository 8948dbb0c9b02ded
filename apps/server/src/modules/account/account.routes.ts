import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { requestMeta } from '../audit/request-meta.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import {
  DataExport,
  DeleteAccountBody,
  DeletedAccount,
  DownloadQuery,
  ExportParams,
  presentExport,
} from './account.schema.ts';
import type { AccountService } from './account.service.ts';
import type { ExportLinks } from './export-links.ts';
import type { DataExportsService } from './exports.service.ts';

const security = [{ bearerAuth: [] }];
const MINUTE = 60_000;

export interface AccountRoutesOptions {
  account: AccountService;
  exports: DataExportsService;
  links: ExportLinks;
}

/** Data rights: export of one's data, and deletion of one's account. */
export async function accountRoutes(app: FastifyInstance, { account, exports, links }: AccountRoutesOptions) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['account'];

  r.delete(
    '/me',
    {
      schema: {
        tags,
        summary: 'Delete my account: hidden and signed out at once, erased after the retention period',
        operationId: 'deleteMe',
        security,
        body: DeleteAccountBody,
        response: responses({ 202: DeletedAccount }, 401, 403, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: [{ name: 'account-delete', limit: 5, windowMs: 15 * MINUTE, by: 'user' }] },
    },
    async (request, reply) => {
      const { eraseAfter } = await account.delete(
        caller(request),
        request.body.password,
        requestMeta(request),
      );
      return reply.code(202).send({ status: 'deactivated', eraseAfter: eraseAfter.toISOString() });
    },
  );

  r.post(
    '/me/export',
    {
      schema: {
        tags,
        summary: 'Start an export of my data (returns the one in progress if any)',
        operationId: 'startExport',
        security,
        response: responses({ 202: DataExport }, 401, 409),
      },
      onRequest: requireAuth,
      config: {
        idempotent: true,
        rateLimit: [{ name: 'data-export', limit: 5, windowMs: 24 * 60 * MINUTE, by: 'user' }],
      },
    },
    async (request, reply) => {
      const row = await exports.request(caller(request).userId, requestMeta(request));
      return reply.code(202).send(presentExport(row, links));
    },
  );

  r.get(
    '/me/export',
    {
      schema: {
        tags,
        summary: 'My latest export',
        operationId: 'getLatestExport',
        security,
        response: responses({ 200: DataExport }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => presentExport(await exports.latest(caller(request).userId), links),
  );

  r.get(
    '/me/export/:id',
    {
      schema: {
        tags,
        summary: 'One of my exports, with a fresh download link when ready',
        operationId: 'getExport',
        security,
        params: ExportParams,
        response: responses({ 200: DataExport }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => presentExport(await exports.get(caller(request).userId, request.params.id), links),
  );

  r.get(
    '/me/export/:id/download',
    {
      schema: {
        tags,
        summary: 'Download an export archive through its signed, expiring link',
        operationId: 'downloadExport',
        params: ExportParams,
        querystring: DownloadQuery,
        response: responses({ 200: Type.String({ description: 'The JSON archive' }) }, 403, 404),
      },
      config: { rateLimit: [{ name: 'export-download', limit: 30, windowMs: 60 * MINUTE, by: 'ip' }] },
    },
    async (request, reply) => {
      links.verify(request.params.id, request.query.expires, request.query.sig);
      const { row, stream } = await exports.open(request.params.id);
      return reply
        .header('Content-Type', 'application/json; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="kith-export-${row.id}.json"`)
        .header('Cache-Control', 'private, no-store')
        .send(stream as never); // streamed as is: the schema only documents it
    },
  );
}
