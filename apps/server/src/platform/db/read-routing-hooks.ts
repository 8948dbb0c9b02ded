import type { FastifyInstance } from 'fastify';
import type { Database } from './database.ts';
import { type ReadContext, runWithReadContext } from './read-context.ts';

const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Read-your-writes for HTTP requests (see ReplicaRouter): each request's handler runs in a read
 * context naming its user; a request with a mutating method reads only from the primary, and once
 * it succeeded (status below 400) its user's position on the primary is recorded — before the
 * answer leaves, so the user's next request, on any instance, cannot read from a replica that has
 * not replayed it yet. Nothing to do without replicas.
 */
export function registerReadRouting(app: FastifyInstance, db: Database): void {
  if (!db.router.hasReplicas) return;
  // preHandler, not onRequest: the body has been parsed by then, so the handler runs in this context
  app.addHook('preHandler', (request, _reply, done) => {
    const context: ReadContext = {
      userId: () => request.auth?.userId,
      wrote: !READ_ONLY_METHODS.has(request.method),
    };
    runWithReadContext(context, done);
  });
  app.addHook('onSend', async (request, reply) => {
    const userId = request.auth?.userId;
    if (userId && !READ_ONLY_METHODS.has(request.method) && reply.statusCode < 400) {
      await db.router.noteWrites([userId]);
    }
  });
}
