import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/platform/http/cursor.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { befriend, createPost } from './helpers/social.ts';

/**
 * Property: whatever an authenticated client puts in any route's path, query or cursor, Kith
 * answers below 500, and every 4xx carries `{ error: { code, message, requestId } }`. The routes
 * and their parameters come from the generated OpenAPI document (packages/contract/openapi.json),
 * so a new route is fuzzed without touching this file. Values are drawn from each parameter's
 * schema (often valid, so requests reach the service and SQL), from real ids of this database
 * (so cursors meet real lists), and from hostile values (out-of-range numbers, forged cursors,
 * NUL, broken percent-encoding). Bounded: RUNS per route; the seed is printed (FUZZ_SEED=… to replay).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`fuzz-routes: seed ${SEED}, ${RUNS} runs per route (replay with FUZZ_SEED=${SEED})`);

type Schema = {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | Schema;
};
interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: Schema;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
const doc = JSON.parse(
  readFileSync(new URL('../../../packages/contract/openapi.json', import.meta.url), 'utf8'),
) as { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

/** Operations that would end the fuzzing user's own session, with nothing in path or query to fuzz. */
const SESSION_ENDING = new Set(['logout', 'logoutAll']);

const t = await buildTestApp({
  ...GENEROUS_AUTH_LIMITS,
  RATE_LIMIT_DEFAULT_PER_MINUTE: '1000000',
  LOG_LEVEL: 'silent',
});
const { app } = t;
// An admin, so staff routes run their handlers too; a friend with a post, a conversation and a collection.
const me = await createUser(t, { role: 'admin' });
const friend = await createUser(t);
await befriend(t, me, friend);
const post = await createPost(t, friend, 'hello #fuzz @someone', 'friends');
const inject = (method: string, url: string, payload?: unknown) =>
  app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: me.headers,
    ...(payload ? { payload } : {}),
  });
const collection = (await inject('POST', '/collections', { title: 'fuzz', visibility: 'public' })).json();
await inject('POST', `/collections/${collection.id}/items`, { postId: post.id });
const conversation = (await inject('POST', '/conversations', { usernames: [friend.username] })).json();
const comment = (await inject('POST', `/posts/${post.id}/comments`, { text: 'a comment' })).json();

const REAL_IDS = [me.id, friend.id, post.id, collection.id, conversation.id, comment.id].filter(Boolean);
const USERNAMES = [me.username, friend.username];
/** List names cursors are bound to (cursor.ts callers), with this database's ids. */
const LISTS = [
  'feed',
  'notifications',
  'conversations',
  'friends',
  'requests:incoming',
  'requests:outgoing',
  `collection:${collection.id}`,
  `user-posts:${me.id}`,
  `user-posts:${friend.id}`,
  `user-collections:${me.id}`,
  `comments:${post.id}`,
  'tag:fuzz',
];

/** Numbers and strings at and beyond the edges of int4, int8, safe integers and PostgreSQL times. */
const EDGE_NUMBERS = fc.constantFrom(
  0,
  -1,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  -(2 ** 63),
  1e308,
  0.5,
  '99999999999999999999',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '253402300800000000',
  '1e400',
  'NaN',
  'Infinity',
  '-0',
  '0x10',
);
const HOSTILE_STRINGS = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  "' OR 1=1 --",
  '../../etc/passwd',
  '\uD800',
  '🎉'.repeat(50),
  'x'.repeat(5000),
  '#tag',
  '@user',
  '%',
  'null',
  'undefined',
  '[]',
  '{}',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
);
const jsonPart = fc.oneof(
  EDGE_NUMBERS,
  HOSTILE_STRINGS,
  fc.constantFrom(...REAL_IDS),
  fc.uuid(),
  fc.jsonValue({ maxDepth: 2 }),
);
/** The lists whose cursors a route takes, guessed from its path (the cursor of another list is tried too). */
const WORD: Record<string, string> = {
  'user-posts': '/posts',
  'user-collections': '/collections',
  collection: '/collections/',
  requests: '/friend-requests',
  tag: '/tags/',
};
const listsOf = (path: string) => {
  const related = LISTS.filter((list) => {
    const head = list.split(':')[0]!;
    return path.includes(WORD[head] ?? `/${head}`);
  });
  return related.length > 0 ? related : LISTS;
};

/**
 * A forged cursor: mostly the route's own list with a well-formed shape (a time or position, then an
 * id) whose parts are at and beyond their ranges; else any list, any parts, or not JSON at all.
 */
const cursorArb = (path: string) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...listsOf(path)),
          EDGE_NUMBERS,
          fc.oneof(fc.constantFrom(...REAL_IDS), fc.uuid()),
        )
        .chain(([list, edge, id]) =>
          fc.constantFrom(encodeCursor(list, [edge, id]), encodeCursor(list, [edge])),
        ),
    },
    fc
      .tuple(fc.oneof(fc.constantFrom(...LISTS), fc.string()), fc.array(jsonPart, { maxLength: 3 }))
      .map(([list, parts]) => encodeCursor(list, parts as (string | number)[])),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
    fc.string({ maxLength: 300 }),
    fc.base64String({ maxLength: 300 }),
  );

/** Values a schema accepts (so requests get past validation into services and SQL). */
function fromSchema(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const name = schema.$ref.split('/').at(-1)!;
    return fromSchema(doc.components?.schemas?.[name] ?? {}, depth);
  }
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices) return fc.oneof(...choices.map((s) => fromSchema(s, depth)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -(2 ** 31);
      const max = schema.maximum ?? 2 ** 31;
      const edges = fc.constantFrom(min, max, Math.min(max, Math.max(min, 0)));
      const any =
        type === 'integer'
          ? fc.integer({
              min: Math.max(min, Number.MIN_SAFE_INTEGER),
              max: Math.min(max, Number.MAX_SAFE_INTEGER),
            })
          : fc.double({ min, max, noNaN: true });
      return fc.oneof(edges, any);
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      if (depth > 3) return fc.constant([]);
      return fc.array(fromSchema(schema.items ?? {}, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    }
    case 'object': {
      if (depth > 3) return fc.constant({});
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      return fc.record(
        Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(s, depth + 1)])),
        { requiredKeys: Object.keys(props).filter((k) => required.has(k)) },
      );
    }
    case 'string':
      return stringFrom(schema);
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

function stringFrom(schema: Schema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 50, 200);
  if (schema.format === 'uuid') return fc.oneof(fc.constantFrom(...REAL_IDS), fc.uuid());
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'email') return fc.emailAddress();
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern);
    const fits = (v: string) =>
      pattern.test(v) && v.length >= minLength && v.length <= (schema.maxLength ?? 1e9);
    const known = USERNAMES.filter(fits);
    // values the pattern generates, cut to the length limits (a cut one may not match: also a good input)
    const generated = fc.stringMatching(pattern).map((v) => v.slice(0, schema.maxLength ?? v.length));
    return known.length > 0 ? fc.oneof(fc.constantFrom(...known), generated) : generated;
  }
  return fc.string({ minLength, maxLength, unit: 'grapheme' });
}

/** A parameter's value: one its schema accepts, a hostile one, or (for cursors) a forged cursor. */
function paramArb(path: string, param: Parameter): fc.Arbitrary<string> {
  const valid = fromSchema(param.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  const hostile = fc.oneof(EDGE_NUMBERS.map(String), HOSTILE_STRINGS, fc.string({ maxLength: 40 }));
  if (param.name === 'cursor') return fc.oneof({ weight: 3, arbitrary: cursorArb(path) }, hostile);
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: hostile });
}

/** Percent-encodes the UTF-8 bytes of a string (a lone surrogate becomes U+FFFD, as any client sends it). */
const encode = (value: string) =>
  [...Buffer.from(value, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');

/** Broken percent-encoding a client may send raw, in place of an encoded value. */
const RAW = fc.constantFrom('%', '%zz', '%00', '%C0%80', '%ED%A0%80', '%FF', '%2e%2e%2f');

function requestArb(path: string, op: Operation) {
  const params = (op.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query');
  const values = Object.fromEntries(
    params.map((p) => {
      const encoded = paramArb(path, p).map(encode);
      const value = p.required ? encoded : fc.option(encoded, { nil: undefined });
      return [`${p.in}:${p.name}`, fc.oneof({ weight: 9, arbitrary: value }, { weight: 1, arbitrary: RAW })];
    }),
  );
  const extraQuery = fc.option(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })), {
    nil: undefined,
  });
  const body = op.requestBody?.content['application/json']?.schema;
  return fc
    .record({
      values: fc.record(values as Record<string, fc.Arbitrary<string | undefined>>),
      extra: extraQuery,
      body: body ? fc.option(fromSchema(body), { nil: undefined, freq: 5 }) : fc.constant(undefined),
    })
    .map(({ values: v, extra, body: payload }) => {
      let url = path.replace(/\{([^}]+)\}/g, (_, name: string) => v[`path:${name}`] ?? 'x');
      const query = params
        .filter((p) => p.in === 'query' && v[`query:${p.name}`] !== undefined)
        .map((p) => `${p.name}=${v[`query:${p.name}`]}`);
      if (extra) query.push(`${encode(extra[0])}=${encode(extra[1])}`);
      if (query.length > 0) url += `?${query.join('&')}`;
      return { url, payload };
    });
}

const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
);
const fuzzed = operations.filter(
  ({ method, op }) =>
    !SESSION_ENDING.has(op.operationId) &&
    // nothing in path or query: only safe methods are sent with junk query strings
    ((op.parameters ?? []).some((p) => p.in === 'path' || p.in === 'query') || method === 'GET'),
);

describe('fuzzing every route’s path, query and cursor parameters', () => {
  it('covers the routes of the contract', () => {
    expect(operations.length).toBeGreaterThan(50);
    expect(fuzzed.length).toBeGreaterThan(40);
  });

  it.each(fuzzed.map((o) => [`${o.method} ${o.path}`, o] as const))(
    '%s',
    async (_name, { method, path, op }) => {
      await fc.assert(
        fc.asyncProperty(requestArb(path, op), async ({ url, payload }) => {
          const res = await app.inject({
            method: method as 'GET',
            url,
            headers: me.headers,
            ...(payload === undefined ? {} : { payload: payload as object }),
          });
          const where = `${method} ${url} → ${res.statusCode} ${res.body.slice(0, 300)}`;
          expect(res.statusCode, where).toBeLessThan(500);
          if (res.statusCode >= 400) {
            const body = res.json() as { error?: Record<string, unknown> };
            expect(body.error, where).toMatchObject({
              code: expect.any(String),
              message: expect.any(String),
              requestId: res.headers['x-request-id'],
            });
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
  );
});
