import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import {
  ChatMessage,
  CLIENT_MESSAGES,
  createKithClient,
  RealtimeNotification,
  RealtimeUserSummary,
  SERVER_EVENTS,
} from '@kith/contract';
import type { TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { CONTRACT_FILES, generateContract, PUBLISHED_OPENAPI, REPO_ROOT } from '../src/cli/contract.ts';
import { breakingChanges } from '../src/cli/contract-compat.ts';
import { Message } from '../src/modules/chat/chat.schema.ts';
import { Notification } from '../src/modules/notifications/notifications.schema.ts';
import { UserSummary } from '../src/modules/posts/posts.schema.ts';
import { buildTestApp } from './helpers/app.ts';

type Schema = Record<string, unknown>;
type Operation = {
  operationId?: string;
  parameters?: { in: string; name: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
};
type Document = {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

const generated = await generateContract();
const document = JSON.parse(generated.get(CONTRACT_FILES.openapi)!) as Document;
const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({
    name: `${method.toUpperCase()} ${path}`,
    method,
    path,
    operation,
  })),
);

/**
 * Every place a request schema lets hostile input through: an object that accepts unknown
 * properties, or a string with no length limit (enums and constants are bounded already).
 */
function looseSpots(schema: Schema | undefined, where: string, seen = new Set<Schema>()): string[] {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return [];
  seen.add(schema);
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = document.components?.schemas?.[name];
    return target ? looseSpots(target, `${where} → ${name}`, seen) : [`${where}: unresolved ${schema.$ref}`];
  }
  const problems: string[] = [];
  const types = ([] as unknown[]).concat(schema.type ?? []);
  const isObject = types.includes('object') || schema.properties !== undefined;
  if (isObject && schema.additionalProperties !== false && schema.patternProperties === undefined) {
    problems.push(`${where}: object without additionalProperties: false`);
  }
  if (types.includes('string') && schema.maxLength === undefined && !schema.enum && !('const' in schema)) {
    problems.push(`${where}: string without maxLength`);
  }
  for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    problems.push(...looseSpots(child, `${where}.${key}`, seen));
  }
  for (const [pattern, child] of Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>)) {
    problems.push(...looseSpots(child, `${where}[${pattern}]`, seen));
  }
  if (typeof schema.additionalProperties === 'object') {
    problems.push(...looseSpots(schema.additionalProperties as Schema, `${where}[*]`, seen));
  }
  if (schema.items) problems.push(...looseSpots(schema.items as Schema, `${where}[]`, seen));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    for (const [i, child] of ((schema[key] ?? []) as Schema[]).entries()) {
      problems.push(...looseSpots(child, `${where}<${key}${i}>`, seen));
    }
  }
  return problems;
}

describe('API contract', () => {
  it.each(Object.values(CONTRACT_FILES))('%s matches what the code generates', async (path) => {
    const committed = await readFile(join(REPO_ROOT, path), 'utf8').catch(() => '(missing)');
    expect(committed, `${path} drifted from the code: run \`npm run contract\` and commit`).toBe(
      generated.get(path),
    );
  });

  it('makes no breaking change to the published contract', async () => {
    const published = JSON.parse(await readFile(join(REPO_ROOT, PUBLISHED_OPENAPI), 'utf8'));
    expect(breakingChanges(published, document as never)).toEqual([]);
  });

  it('names every operation once', () => {
    const ids = operations.map((o) => o.operation.operationId);
    for (const [i, id] of ids.entries()) expect(id, operations[i]!.name).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every operation a success response schema and the catalogue error body', () => {
    for (const { name, operation } of operations) {
      const responses = operation.responses ?? {};
      const successes = Object.keys(responses).filter((status) => status.startsWith('2'));
      expect(successes, `${name} declares no 2xx response`).not.toHaveLength(0);
      for (const status of successes) {
        if (status === '204') continue;
        // JSON for the API; a binary media type (image/webp) for files
        const content = responses[status]?.content ?? {};
        expect(Object.values(content)[0]?.schema, `${name} ${status}`).toBeDefined();
      }
      expect(responses['400']?.content?.['application/json']?.schema, `${name} 400`).toEqual({
        $ref: '#/components/schemas/ErrorResponse',
      });
    }
  });

  // PUT may carry everything in its path (`PUT /blocks/{username}`); a PATCH without a body is a mistake
  it('schemas every request input: path parameters, PATCH bodies', () => {
    for (const { name, method, path, operation } of operations) {
      for (const param of path.match(/\{[^}]+\}/g) ?? []) {
        const declared = operation.parameters?.find((p) => p.in === 'path' && `{${p.name}}` === param);
        expect(declared?.schema, `${name}: path parameter ${param} has no schema`).toBeDefined();
      }
      if (method === 'patch') {
        expect(operation.requestBody?.content?.['application/json']?.schema, `${name} body`).toBeDefined();
      }
    }
  });

  it('bounds every request schema: closed objects, strings with maxLength', () => {
    const problems = operations.flatMap(({ name, operation }) => [
      ...Object.entries(operation.requestBody?.content ?? {}).flatMap(([type, media]) =>
        looseSpots(media.schema, `${name} body (${type})`),
      ),
      ...(operation.parameters ?? []).flatMap((p) => looseSpots(p.schema, `${name} ${p.in} ${p.name}`)),
    ]);
    expect(problems).toEqual([]);
  });

  it('finds unbounded request schemas (the check above is not vacuous)', () => {
    const loose = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        tags: { type: 'array', items: { type: 'string', maxLength: 10 } },
        nested: { type: 'object', properties: { kind: { type: 'string', enum: ['a'] } } },
        either: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
      additionalProperties: false,
    };
    expect(looseSpots(loose, 'body')).toEqual([
      'body.name: string without maxLength',
      'body.nested: object without additionalProperties: false',
      'body.either<anyOf0>: string without maxLength',
    ]);
  });
});

describe('the generated typed client', () => {
  it('signs up and reads /me against a live server', async () => {
    const { app } = await buildTestApp();
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });

    const anonymous = createKithClient({ baseUrl });
    const signup = await anonymous.POST('/api/v1/auth/signup', {
      body: {
        username: 'contract_client',
        email: 'contract.client@example.com',
        password: 'a typed client signs up',
      },
    });
    expect(signup.response.status, JSON.stringify(signup.error)).toBe(201);
    const accessToken = signup.data!.accessToken;

    const kith = createKithClient({ baseUrl, accessToken: () => accessToken });
    const me = await kith.GET('/api/v1/me');
    expect(me.response.status, JSON.stringify(me.error)).toBe(200);
    expect(me.data).toMatchObject({ username: 'contract_client', email: 'contract.client@example.com' });

    const refused = await anonymous.GET('/api/v1/me');
    expect(refused.response.status).toBe(401);
    expect(refused.error?.error.requestId).toBe(refused.response.headers.get('x-request-id'));

    // the realtime protocol's document, served beside /openapi.json (never the web app's index.html)
    const asyncapi = await fetch(`${baseUrl}/asyncapi.json`);
    expect(asyncapi.status).toBe(200);
    expect(asyncapi.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await asyncapi.text()).toBe(generated.get(CONTRACT_FILES.asyncapi));
  });
});

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * A schema reduced to what a payload must satisfy: $refs resolved from `named`, prose dropped, and
 * a UUID written as a format (the server's schemas) or as a pattern (the contract's) the same.
 */
function shape(schema: unknown, named: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => shape(s, named));
  if (schema === null || typeof schema !== 'object') return schema;
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string') return shape(named[s.$ref.split('/').pop()!], named);
  if (s.type === 'string' && (s.format === 'uuid' || s.pattern === UUID_PATTERN)) return 'uuid';
  return Object.fromEntries(
    Object.keys(s)
      .filter((k) => !['$id', 'description', 'title'].includes(k))
      .sort()
      .map((k) => [k, shape(s[k], named)]),
  );
}

describe('the AsyncAPI document of the realtime protocol', () => {
  const text = generated.get(CONTRACT_FILES.asyncapi)!;

  it('is a valid AsyncAPI 3.0 document (@asyncapi/parser: no error, no warning)', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(text);
    const problems = diagnostics
      .filter((d) => d.severity <= 1) // 0 error, 1 warning (2 information: "3.1.0 exists")
      .map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(problems).toEqual([]);
    expect(parsed?.version()).toBe('3.0.0');
    const names = (action: 'send' | 'receive') =>
      parsed!
        .operations()
        .all()
        .filter((o) => o.action() === action)
        .flatMap((o) =>
          o
            .messages()
            .all()
            .map((m) => m.name()),
        )
        .sort();
    expect(names('send')).toEqual(Object.keys(SERVER_EVENTS).sort());
    expect(names('receive')).toEqual(Object.keys(CLIENT_MESSAGES).sort());
  });

  it('carries every event schema as the contract defines it', () => {
    const doc = JSON.parse(text) as {
      components: { schemas: Record<string, unknown> };
      channels: { realtime: { messages: Record<string, { name: string; payload: unknown }> } };
    };
    const named = doc.components.schemas;
    for (const [id, message] of Object.entries(doc.channels.realtime.messages)) {
      const schemas: Record<string, unknown> = id.startsWith('server.') ? SERVER_EVENTS : CLIENT_MESSAGES;
      expect(shape(message.payload, named), id).toEqual(
        shape(JSON.parse(JSON.stringify(schemas[message.name])), {}),
      );
    }
  });

  // what a socket carries is what the REST API answers: a client renders both with one component
  it.each([
    ['notification.new → Notification', RealtimeNotification, Notification],
    ['message.* → Message', ChatMessage, Message],
    ['UserSummary', RealtimeUserSummary, UserSummary],
  ] as [string, TSchema, TSchema][])('%s matches the REST schema', (_, realtime, rest) => {
    const named = { UserSummary };
    expect(shape(JSON.parse(JSON.stringify(realtime)), named)).toEqual(
      shape(JSON.parse(JSON.stringify(rest)), named),
    );
  });
});
