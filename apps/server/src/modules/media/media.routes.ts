import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { responses } from '../../platform/http/schemas.ts';
import { StorageError } from '../../platform/storage/storage-errors.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import {
  Accepted,
  DirectUpload,
  FileParams,
  Media,
  MediaChanges,
  MediaParams,
  NewDirectUpload,
  SignedQuery,
} from './media.schema.ts';
import type { MediaService, ReceivedUpload } from './media.service.ts';
import type { MediaFilesService } from './media-files.service.ts';

const security = [{ bearerAuth: [] }];
const tags = ['media'];
const HOUR = 3_600_000;
const Empty = Type.Null({ description: 'No content' });
/** Room for multipart boundaries and part headers around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

export interface MediaRoutesDeps {
  media: MediaService;
  files: MediaFilesService;
  maxBytes: number;
  uploadsPerHour: number;
}

/** Multipart parser errors (from @fastify/multipart and busboy), in the error catalogue. */
function multipartError(err: unknown): unknown {
  if (err instanceof AppError || err instanceof StorageError) return err;
  const { code, message } = err as { code?: string; message?: string };
  switch (code) {
    case 'FST_FILES_LIMIT':
      return new AppError('TOO_MANY_FILES');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError('TOO_MANY_PARTS');
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('MEDIA_TOO_LARGE');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data.');
    case 'FST_PROTO_VIOLATION':
    case 'FST_MP_PREMATURE_CLOSE':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new AppError('MALFORMED_MULTIPART');
  }
  // busboy's own parse errors carry no code
  if (/multipart|boundary|part|header/i.test(message ?? '')) return new AppError('MALFORMED_MULTIPART');
  return err;
}

/** Media: uploads, their state and alt text, and the variants themselves. */
export async function mediaRoutes(app: FastifyInstance, deps: MediaRoutesDeps): Promise<void> {
  const { media, files, maxBytes } = deps;
  // multipart only here: everywhere else it stays a 415
  await app.register(multipart, {
    limits: {
      fieldNameSize: 100,
      fieldSize: 1000,
      fields: 4,
      // one byte over the cap reaches the upload guard, which answers MEDIA_TOO_LARGE
      fileSize: maxBytes + 1,
      files: 1,
      parts: 6,
      headerPairs: 20,
    },
  });
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const uploadLimit = [
    { name: 'media-upload', limit: deps.uploadsPerHour, windowMs: HOUR, by: 'user' as const },
  ];

  // A declared length over the cap is refused before a byte of the body is read.
  const refuseOversized = async (request: FastifyRequest, reply: FastifyReply) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBytes + MULTIPART_OVERHEAD) {
      media.countRefusal(new AppError('MEDIA_TOO_LARGE'));
      reply.header('Connection', 'close');
      throw new AppError('MEDIA_TOO_LARGE', `The file is larger than ${maxBytes} bytes.`);
    }
  };

  r.post(
    '/media',
    {
      schema: {
        tags,
        summary: 'Upload an image (multipart/form-data, one file part); processed asynchronously',
        description:
          'JPEG, PNG, WebP, GIF or AVIF, told from the bytes. Poll GET /media/{id} until `ready` or `failed`. ' +
          'When the media store has no room: 507 MEDIA_STORAGE_FULL; when it does not answer: 503 ' +
          'MEDIA_STORAGE_UNAVAILABLE with Retry-After. Either way nothing was kept.',
        operationId: 'uploadMedia',
        security,
        consumes: ['multipart/form-data'],
        response: responses({ 202: Accepted }, 401, 409, 413, 415, 422, 507),
      },
      onRequest: [requireAuth, refuseOversized],
      config: { idempotent: true, rateLimit: uploadLimit },
    },
    async (request, reply) => {
      const ownerId = caller(request).userId;
      let received: ReceivedUpload | undefined;
      try {
        await media.assertRoom(ownerId);
        // every part is read, so that a second file or too many parts is seen before committing
        for await (const part of request.parts()) {
          if (part.type !== 'file') continue;
          received = await media.receive({ stream: part.file, fileName: part.filename });
        }
        if (!received) throw new AppError('NO_FILE');
        return reply.code(202).send(await media.commit(ownerId, received));
      } catch (err) {
        if (received) await media.discard(received).catch(() => {});
        const mapped = multipartError(err);
        media.countRefusal(mapped);
        throw mapped;
      }
    },
  );

  r.post(
    '/media/uploads',
    {
      schema: {
        tags,
        summary: 'Scaled shape: get a presigned PUT to upload an image straight to S3',
        description: 'PUT exactly `size` bytes with the given headers, then POST /media/{id}/complete.',
        operationId: 'createDirectUpload',
        security,
        body: NewDirectUpload,
        response: responses({ 201: DirectUpload }, 401, 409, 413, 422),
      },
      onRequest: requireAuth,
      config: { idempotent: true, rateLimit: uploadLimit },
    },
    async (request, reply) =>
      reply.code(201).send(await media.createDirectUpload(caller(request).userId, request.body)),
  );

  r.post(
    '/media/:id/complete',
    {
      schema: {
        tags,
        summary: 'Scaled shape: the direct upload is done; check it and start processing',
        operationId: 'completeDirectUpload',
        security,
        params: MediaParams,
        response: responses({ 202: Accepted }, 401, 404, 409, 415),
      },
      onRequest: requireAuth,
    },
    async (request, reply) =>
      reply.code(202).send(await media.complete(caller(request).userId, request.params.id)),
  );

  r.get(
    '/media/:id',
    {
      schema: {
        tags,
        summary: 'A medium: status, variant URLs, dimensions, placeholder',
        operationId: 'getMedia',
        security,
        params: MediaParams,
        response: responses({ 200: Media }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => media.get(caller(request).userId, request.params.id),
  );

  r.patch(
    '/media/:id',
    {
      schema: {
        tags,
        summary: 'Set the alt text of my medium',
        operationId: 'updateMedia',
        security,
        params: MediaParams,
        body: MediaChanges,
        response: responses({ 200: Media }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) => media.updateAlt(caller(request).userId, request.params.id, request.body.alt),
  );

  r.delete(
    '/media/:id',
    {
      schema: {
        tags,
        summary: 'Delete my medium (attached ones go with their post or message)',
        operationId: 'deleteMedia',
        security,
        params: MediaParams,
        response: responses({ 204: Empty }, 401, 404, 409),
      },
      onRequest: requireAuth,
    },
    async (request, reply) => {
      await media.delete(caller(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/media/:id/:file',
    {
      schema: {
        tags,
        summary: 'A variant image (public media as is; private media through a signed, expiring URL)',
        description: 'URLs come from the Media and Post views; they are not built by clients.',
        operationId: 'getMediaFile',
        params: FileParams,
        querystring: SignedQuery,
        response: responses(
          {
            // the file is image/webp; errors stay application/json like everywhere else
            200: Type.Unsafe<unknown>({
              description: 'The image',
              content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } },
            }),
            304: Empty,
          },
          403,
          404,
        ),
      },
    },
    async (request, reply) => {
      const name = request.params.file === 'thumb.webp' ? 'thumb' : 'large';
      const file = await files.open(request.params.id, name, request.query);
      reply
        .header('Content-Type', file.contentType)
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Disposition', file.contentDisposition)
        .header('Cache-Control', file.cacheControl)
        .header('ETag', file.etag);
      if (request.headers['if-none-match'] === file.etag) {
        file.body.destroy();
        return reply.code(304).send(null);
      }
      return reply.header('Content-Length', file.size).send(file.body);
    },
  );
}
