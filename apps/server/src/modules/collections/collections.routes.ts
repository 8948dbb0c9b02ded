import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { responses } from '../../platform/http/schemas.ts';
import { caller, requireAuth } from '../auth/authenticate.ts';
import { UsernameParams } from '../friends/friends.schema.ts';
import {
  Collection,
  CollectionChanges,
  CollectionDetail,
  CollectionItem,
  CollectionPage,
  CollectionParams,
  ItemOrder,
  ItemParams,
  ItemsQuery,
  NewCollection,
  NewItem,
} from './collections.schema.ts';
import type { CollectionsService } from './collections.service.ts';

const security = [{ bearerAuth: [] }];
const tags = ['collections'];
const MINUTE = 60_000;
const Empty = Type.Null({ description: 'No content' });
// a uuid in a JSON array takes 39 bytes: room for the longest allowed order
const ORDER_BYTES_PER_ITEM = 40;

export interface CollectionsRoutesDeps {
  collections: CollectionsService;
  maxItems: number;
}

/** Collections: curated, ordered lists of posts. */
export async function collectionsRoutes(
  app: FastifyInstance,
  { collections, maxItems }: CollectionsRoutesDeps,
): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const writeLimit = [{ name: 'collections-write', limit: 300, windowMs: MINUTE, by: 'user' as const }];

  r.post(
    '/collections',
    {
      schema: {
        tags,
        summary: 'Create a collection (visibility defaults to friends)',
        operationId: 'createCollection',
        security,
        body: NewCollection,
        response: responses({ 201: Collection }, 401, 409, 422),
      },
      onRequest: requireAuth,
      config: {
        idempotent: true,
        rateLimit: [{ name: 'collections-create', limit: 30, windowMs: MINUTE, by: 'user' }],
      },
    },
    async (request, reply) =>
      reply.code(201).send(await collections.create(caller(request).userId, request.body)),
  );

  r.get(
    '/collections/:id',
    {
      schema: {
        tags,
        summary: 'A collection the caller can see, with a page of its items in order',
        operationId: 'getCollection',
        security,
        params: CollectionParams,
        querystring: ItemsQuery,
        response: responses({ 200: CollectionDetail }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      collections.get(
        caller(request).userId,
        request.params.id,
        request.query.cursor,
        request.query.limit ?? 20,
      ),
  );

  r.patch(
    '/collections/:id',
    {
      schema: {
        tags,
        summary: 'Change the title, description or visibility of my collection',
        operationId: 'updateCollection',
        security,
        params: CollectionParams,
        body: CollectionChanges,
        response: responses({ 200: Collection }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: writeLimit },
    },
    async (request) => collections.update(caller(request).userId, request.params.id, request.body),
  );

  r.delete(
    '/collections/:id',
    {
      schema: {
        tags,
        summary: 'Delete my collection (the posts stay)',
        operationId: 'deleteCollection',
        security,
        params: CollectionParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: writeLimit },
    },
    async (request, reply) => {
      await collections.delete(caller(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/collections/:id/items',
    {
      schema: {
        tags,
        summary: 'Add a post I can see to my collection, at the end or at a position',
        operationId: 'addCollectionItem',
        security,
        params: CollectionParams,
        body: NewItem,
        response: responses({ 201: CollectionItem }, 401, 404, 409, 422),
      },
      onRequest: requireAuth,
      config: { idempotent: true, rateLimit: writeLimit },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await collections.addItem(
            caller(request).userId,
            request.params.id,
            request.body.postId,
            request.body.position,
          ),
        ),
  );

  r.delete(
    '/collections/:id/items/:postId',
    {
      schema: {
        tags,
        summary: 'Remove a post from my collection (the items after it move up)',
        operationId: 'removeCollectionItem',
        security,
        params: ItemParams,
        response: responses({ 204: Empty }, 401, 404),
      },
      onRequest: requireAuth,
      config: { rateLimit: writeLimit },
    },
    async (request, reply) => {
      await collections.removeItem(caller(request).userId, request.params.id, request.params.postId);
      return reply.code(204).send(null);
    },
  );

  r.put(
    '/collections/:id/items',
    {
      schema: {
        tags,
        summary: 'Reorder my collection: list every post in it, each once, in the new order',
        operationId: 'reorderCollection',
        security,
        params: CollectionParams,
        body: ItemOrder,
        response: responses({ 204: Empty }, 401, 404, 409, 413),
      },
      onRequest: requireAuth,
      bodyLimit: Math.max(app.initialConfig.bodyLimit ?? 0, maxItems * ORDER_BYTES_PER_ITEM + 1024),
      config: { rateLimit: writeLimit },
    },
    async (request, reply) => {
      await collections.reorder(caller(request).userId, request.params.id, request.body.postIds);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/users/:username/collections',
    {
      schema: {
        tags,
        summary: "A user's collections that the caller can see, newest first",
        operationId: 'listUserCollections',
        security,
        params: UsernameParams,
        querystring: ItemsQuery,
        response: responses({ 200: CollectionPage }, 401, 404),
      },
      onRequest: requireAuth,
    },
    async (request) =>
      collections.listByUser(
        caller(request).userId,
        request.params.username,
        request.query.cursor,
        request.query.limit ?? 20,
      ),
  );
}
