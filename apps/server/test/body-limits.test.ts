import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createPlatform } from '../src/platform/platform.ts';
import { testConfig } from './helpers/app.ts';
import { createTestDatabase } from './helpers/database.ts';

type App = Awaited<ReturnType<typeof buildApp>>;
let app: App;
let close: () => Promise<void>;
let handled = 0;

beforeAll(async () => {
  const database = await createTestDatabase();
  const config = testConfig(database.url, { BODY_LIMIT_BYTES: '2048', JSON_MAX_DEPTH: '8' });
  const platform = await createPlatform({
    config,
    logger: createLogger('silent'),
    databaseUrl: database.url,
  });
  app = await buildApp(platform, { docs: false });
  // a test-only route: real POST routes belong to the modules; the parser runs before any of them
  app.post(
    '/test/echo',
    { schema: { body: Type.Object({}, { additionalProperties: true }) } },
    async (request) => {
      handled++;
      return { received: request.body };
    },
  );
  await app.ready();
  close = async () => {
    await app.close();
    await platform.close();
    await database.drop();
  };
});

afterAll(async () => {
  await close?.();
});

function post(payload: string | Buffer, contentType = 'application/json') {
  return app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': contentType }, payload });
}

function expectError(res: Awaited<ReturnType<typeof post>>, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json();
  expect(body).toEqual({
    error: { code, message: expect.any(String), requestId: res.headers['x-request-id'] },
  });
  expect(JSON.stringify(body)).not.toMatch(/ at .*\.ts|node_modules/); // never a stack trace
}

describe('JSON bodies', () => {
  it('accepts a well-formed body, with or without a charset', async () => {
    const res = await post('{"hello":"wörld"}');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: { hello: 'wörld' } });
    const withCharset = await post('{"a":1}', 'application/json; charset=utf-8');
    expect(withCharset.statusCode).toBe(200);
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const before = handled;
    const body = JSON.stringify({ text: 'x'.repeat(4096) });
    expectError(await post(body), 413, 'PAYLOAD_TOO_LARGE');
    // the same without a Content-Length: a chunked body is cut off at the limit too
    const chunked = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      payload: body,
    });
    expectError(chunked, 413, 'PAYLOAD_TOO_LARGE');
    expect(handled).toBe(before);
  });

  it('answers JSON nested beyond the depth limit with 400 JSON_TOO_DEEP', async () => {
    expect((await post(`${'{"a":'.repeat(7)}1${'}'.repeat(7)}`)).statusCode).toBe(200);
    expectError(await post(`${'{"a":'.repeat(9)}1${'}'.repeat(9)}`), 400, 'JSON_TOO_DEEP');
    expectError(await post(`{"list":${'['.repeat(9)}${']'.repeat(9)}}`), 400, 'JSON_TOO_DEEP');
    // very deep input must not blow the stack either (fits under the 2 KiB limit)
    expectError(await post(`${'['.repeat(1000)}${']'.repeat(1000)}`), 400, 'JSON_TOO_DEEP');
  });

  it('refuses __proto__ and constructor.prototype keys with 400 and pollutes nothing', async () => {
    const before = handled;
    for (const body of [
      '{"__proto__":{"polluted":true}}',
      '{"nested":{"__proto__":{"polluted":true}}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '[{"a":{"constructor":{"prototype":{"polluted":true}}}}]',
    ]) {
      expectError(await post(body), 400, 'FORBIDDEN_KEY');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(handled).toBe(before);
  });

  it('answers a Content-Type it does not parse with 415', async () => {
    expectError(await post('{"a":1}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('a=1', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('{"a":1}', 'application/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers invalid UTF-8 with 400 INVALID_UTF8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"name":"'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]);
    expectError(await post(bytes), 400, 'INVALID_UTF8');
    // an overlong encoding of "/" is invalid too
    expectError(
      await post(Buffer.concat([Buffer.from('{"p":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])),
      400,
      'INVALID_UTF8',
    );
  });

  it('answers a NUL character in a string or a key with 400 NUL_CHARACTER', async () => {
    expectError(await post('{"name":"a\\u0000b"}'), 400, 'NUL_CHARACTER');
    expectError(await post('{"a\\u0000":1}'), 400, 'NUL_CHARACTER');
    expectError(await post('{"deep":[{"x":["\\u0000"]}]}'), 400, 'NUL_CHARACTER');
  });

  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    for (const body of ['{"a":', '{a:1}', "{'a':1}", '{"a":1}}', 'NaN', '{"a":"raw\u0000byte"}']) {
      expectError(await post(body), 400, 'INVALID_JSON');
    }
  });

  it('stays healthy after all of the above', async () => {
    const live = await app.inject({ method: 'GET', url: '/livez' });
    expect(live.statusCode).toBe(200);
    const ok = await post('{"still":"fine"}');
    expect(ok.json()).toEqual({ received: { still: 'fine' } });
  });
});
