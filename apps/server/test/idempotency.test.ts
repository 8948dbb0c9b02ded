import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { jobHandlers } from '../src/jobs.ts';
import { AppError } from '../src/platform/errors.ts';
import { storageKey } from '../src/platform/idempotency/idempotency-seal.ts';
import type { Platform } from '../src/platform/platform.ts';
import { buildTestApp } from './helpers/app.ts';

interface Order {
  item: string;
  qty?: number;
  fail?: 'server' | 'client';
  wait?: boolean;
}

/** Lets a test hold the handler of a request mid-flight. */
const slow = { entered: 0, gate: Promise.resolve() };

/** A test-only route whose every run leaves a row, so "ran exactly once" can be counted. */
async function orderRoute(app: FastifyInstance, platform: Platform) {
  await platform.db.primaryPool.query('CREATE TABLE test_orders (id serial PRIMARY KEY, item text NOT NULL)');
  app.post(
    '/test/orders',
    {
      config: { idempotent: true },
      schema: {
        body: Type.Object({
          item: Type.String({ maxLength: 50 }),
          qty: Type.Optional(Type.Integer()),
          fail: Type.Optional(Type.Union([Type.Literal('server'), Type.Literal('client')])),
          wait: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body as Order;
      const { rows } = await platform.db.primaryPool.query<{ id: number }>(
        'INSERT INTO test_orders (item) VALUES ($1) RETURNING id',
        [body.item],
      );
      if (body.wait) {
        slow.entered += 1;
        await slow.gate;
      }
      if (body.fail === 'server') throw new Error('database exploded');
      if (body.fail === 'client') throw new AppError('CONFLICT', 'out of stock');
      const id = rows[0]!.id;
      reply.header('set-cookie', `order=${id}; HttpOnly`);
      return reply.code(201).header('location', `/test/orders/${id}`).send({ id, item: body.item });
    },
  );
}

const { app, platform } = await buildTestApp({}, { extend: orderRoute });

const order = (body: Order | string, key?: string, remoteAddress = '192.0.2.1') =>
  app.inject({
    method: 'POST',
    url: '/test/orders',
    remoteAddress,
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

const runs = async (item: string) => {
  const { rows } = await platform.db.primaryPool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM test_orders WHERE item = $1',
    [item],
  );
  return rows[0]!.n;
};

/** How the record of an anonymous key is stored (hashed; anonymous keys are scoped to the route). */
const stored = (key: string) => storageKey('anon:POST /test/orders', key);

const record = async (key: string) => {
  const { rows } = await platform.db.primaryPool.query(
    `SELECT state, response_status, (expires_at - created_at) = make_interval(hours => 24) AS ttl_ok
       FROM idempotency_keys WHERE key = $1`,
    [stored(key)],
  );
  return rows[0] as { state: string; response_status: number | null; ttl_ok: boolean } | undefined;
};

describe('Idempotency-Key', () => {
  it('stores neither the raw key nor the response body in clear', async () => {
    const res = await order({ item: 'secret-item' }, 'key-sealed-0123456789');
    expect(res.statusCode).toBe(201);
    const { rows } = await platform.db.primaryPool.query('SELECT key, response_body FROM idempotency_keys');
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain('key-sealed-0123456789');
    expect(dump).not.toContain('secret-item');
    expect(rows.some((r) => r.key === stored('key-sealed-0123456789'))).toBe(true);
    const replay = await order({ item: 'secret-item' }, 'key-sealed-0123456789');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(res.body);
  });

  it('processes requests without a key normally', async () => {
    expect((await order({ item: 'plain' })).statusCode).toBe(201);
    expect((await order({ item: 'plain' })).statusCode).toBe(201);
    expect(await runs('plain')).toBe(2);
  });

  it('replays the stored response for the same key and body, running the handler once', async () => {
    const first = await order({ item: 'book', qty: 1 }, 'key-replay-0123456789');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await record('key-replay-0123456789')).toEqual({
      state: 'done',
      response_status: 201,
      ttl_ok: true,
    });

    // the same body with its keys in another order and other whitespace is the same request
    const again = await order('{ "qty": 1,   "item": "book" }', 'key-replay-0123456789');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(await runs('book')).toBe(1);
  });

  it('answers 422 for the same key with another body, without running the handler', async () => {
    expect((await order({ item: 'pen' }, 'key-reuse-0123456789')).statusCode).toBe(201);
    const reused = await order({ item: 'pencil' }, 'key-reuse-0123456789');
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await runs('pencil')).toBe(0);
  });

  it('replays an anonymous key whatever the client address (a phone that changed networks)', async () => {
    expect((await order({ item: 'lamp' }, 'shared-key-0123456789', '192.0.2.1')).statusCode).toBe(201);
    const other = await order({ item: 'lamp' }, 'shared-key-0123456789', '192.0.2.2');
    expect(other.statusCode).toBe(201);
    expect(other.headers['idempotent-replayed']).toBe('true');
    expect(await runs('lamp')).toBe(1);
  });

  it('answers 409 to a concurrent request with the same key while the first is running', async () => {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    let release!: () => void;
    slow.gate = new Promise((resolve) => {
      release = resolve;
    });
    const send = () =>
      fetch(`${url}/test/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'key-race-0123456789' },
        body: JSON.stringify({ item: 'race', wait: true }),
      });
    // two requests on the wire at the same time: one claims the key, the other finds it running
    const [a, b] = [send(), send()];
    const loser = await Promise.race([a, b]);
    expect(loser.status).toBe(409);
    expect(((await loser.json()) as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(loser.headers.get('retry-after')).toBe('1');
    expect(slow.entered).toBe(1);
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect([ra.status, rb.status].sort()).toEqual([201, 409]);

    const replay = await order({ item: 'race', wait: true }, 'key-race-0123456789', '127.0.0.1');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await runs('race')).toBe(1);
    expect(slow.entered).toBe(1);
  });

  it('refuses a malformed key with 400 before doing anything', async () => {
    for (const key of ['k'.repeat(256), 'tab\there', 'clé', '']) {
      const res = await order({ item: 'malformed' }, key);
      expect(res.statusCode, JSON.stringify(key)).toBe(400);
      expect(res.json().error.code).toBe('INVALID_IDEMPOTENCY_KEY');
    }
    expect(await runs('malformed')).toBe(0);
    expect((await order({ item: 'longest' }, 'k'.repeat(255))).statusCode).toBe(201);
  });

  it('does not store a 5xx: the key is released and a retry runs again', async () => {
    expect((await order({ item: 'boom', fail: 'server' }, 'key-5xx-0123456789')).statusCode).toBe(500);
    expect(await record('key-5xx-0123456789')).toBeUndefined();
    const retry = await order({ item: 'boom', fail: 'server' }, 'key-5xx-0123456789');
    expect(retry.statusCode).toBe(500);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await runs('boom')).toBe(2);
  });

  it('stores and replays a 4xx', async () => {
    const first = await order({ item: 'sold-out', fail: 'client' }, 'key-4xx-0123456789');
    expect(first.statusCode).toBe(409);
    const again = await order({ item: 'sold-out', fail: 'client' }, 'key-4xx-0123456789');
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().error).toEqual(first.json().error);
    expect(await runs('sold-out')).toBe(1);
  });

  it('takes over a key whose run died holding the lock', async () => {
    expect((await order({ item: 'crash' }, 'key-stale-0123456789')).statusCode).toBe(201);
    // as if the instance had been killed mid-request: still running, lock passed
    await platform.db.primaryPool.query(
      `UPDATE idempotency_keys SET state = 'running', response_status = NULL, locked_until = now() - interval '1 second'
        WHERE key = $1`,
      [stored('key-stale-0123456789')],
    );
    const retry = await order({ item: 'crash' }, 'key-stale-0123456789');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await runs('crash')).toBe(2);
  });

  it('forgets records after the TTL; the cleanup job removes them', async () => {
    expect((await order({ item: 'old' }, 'key-expiry-0123456789')).statusCode).toBe(201);
    const expire = () =>
      platform.db.primaryPool.query(
        `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`,
        [stored('key-expiry-0123456789')],
      );
    await expire();
    // an expired record is not replayed, even before the job has run
    const fresh = await order({ item: 'old' }, 'key-expiry-0123456789');
    expect(fresh.statusCode).toBe(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(await runs('old')).toBe(2);
    expect(await record('key-expiry-0123456789')).toMatchObject({ state: 'done', ttl_ok: true });

    await expire();
    await jobHandlers(platform)['idempotency.cleanup']({}, { jobId: '1', attempts: 1 });
    expect(await record('key-expiry-0123456789')).toBeUndefined();
  });

  it('documents the header in the OpenAPI document', async () => {
    const doc = app.swagger() as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema: object }[] }>>;
    };
    const parameters = doc.paths['/test/orders']?.post?.parameters ?? [];
    expect(parameters).toContainEqual(
      expect.objectContaining({
        in: 'header',
        name: 'idempotency-key',
        schema: expect.objectContaining({ maxLength: 255 }),
      }),
    );
  });
});
