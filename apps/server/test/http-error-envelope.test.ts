import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser } from './helpers/factories.ts';

/**
 * Every kind of failure, sent over a real socket, answers with Kith's error body, the security
 * headers every other answer carries, and CORS for an allowed Origin — whoever answers it: the
 * HTTP parser, the router, a hook that answers early, the body parser, a handler, the error handler.
 */

const ORIGIN = 'https://app.kith.example';
const FOREIGN = 'https://evil.example';

const production = {
  NODE_ENV: 'production',
  CORS_ORIGINS: ORIGIN,
  METRICS_TOKEN: 'metrics-token-for-tests',
  MEDIA_SIGNING_SECRET: 'media-signing-secret-for-tests-0123456789',
  JWT_SIGNING_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
};

const t = await buildTestApp(
  { ...production, BODY_LIMIT_BYTES: '2048', RATE_LIMIT_SIGNUP_IP: '3' },
  {
    extend: (app, platform) => {
      app.get('/test/boom', async () => {
        throw new Error('a bug, with a secret: hunter2');
      });
      // values the schemas let through but Postgres refuses (SQLSTATE class 22)
      const statements = {
        bigint: sql`SELECT ${'99999999999999999999'}::bigint AS v`,
        interval: sql`SELECT interval '1 day' * ${1e300}::float8 AS v`,
        datetime: sql`SELECT make_timestamp(2024, 13, 45, 0, 0, 0) AS v`,
        text: sql`SELECT ${'not-a-number'}::int AS v`,
      };
      app.get<{ Params: { kind: keyof typeof statements } }>('/test/db/:kind', async (request) => {
        const { rows } = await statements[request.params.kind].execute(platform.db.primary);
        return rows[0];
      });
    },
  },
);
const { port } = new URL(await t.app.listen({ host: '127.0.0.1', port: 0 }));

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as they are and reads the answer until the server closes the connection. */
function raw(request: string | Buffer, to = Number(port)): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(to, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    // a reset after the whole answer arrived is not a failure of the answer
    socket.on('error', (err) => (chunks.length > 0 ? socket.destroy() : reject(err)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if (split === -1) return reject(new Error(`no complete answer: ${JSON.stringify(text)}`));
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      const body = text.slice(split + 4);
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    // not half-closed: Node aborts a request whose client has ended its side before the answer
    socket.write(request);
  });
}

/** A well-formed HTTP/1.1 request that asks the server to close after answering. */
function request(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Buffer {
  const all: Record<string, string> = { host: 'kith.test', origin: ORIGIN, connection: 'close', ...headers };
  if (body !== undefined) all['content-length'] ??= String(Buffer.byteLength(body));
  const head = Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${head}\r\n`), Buffer.from(body ?? '')]);
}

// what helmet sends on a plain success: every failure must send the same
const baseline = await raw(request('GET', '/livez'));
const SECURITY_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

function expectEnvelope(res: RawResponse, status: number, code: string, origin: string | null = ORIGIN) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  const body = JSON.parse(res.body);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({
    code,
    message: expect.any(String),
    requestId: res.headers['x-request-id'],
  });
  expect(res.headers['x-request-id']).toMatch(/^[\w.:-]{1,128}$/);
  expect(Object.keys(body.error).every((k) => ['code', 'message', 'details', 'requestId'].includes(k))).toBe(
    true,
  );
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).not.toMatch(/hunter2|node_modules| at .*\.ts|FST_|statusCode/);
  for (const name of SECURITY_HEADERS) expect(res.headers[name], name).toBe(baseline.headers[name]);
  if (origin === ORIGIN) {
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-expose-headers']).toBe(
      baseline.headers['access-control-expose-headers'],
    );
    expect(res.headers.vary).toMatch(/Origin/i);
  } else {
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  }
  return body.error as { code: string; message: string; details?: unknown; requestId: string };
}

describe('every failure answers with the error body, the security headers and CORS', () => {
  it('the baseline success carries the security headers and CORS', () => {
    expect(baseline.status).toBe(200);
    for (const name of SECURITY_HEADERS) expect(baseline.headers[name], name).toBeTruthy();
    expect(baseline.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(baseline.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(baseline.headers['access-control-expose-headers']).toContain('X-Request-Id');
  });

  it('401 from the authentication hook: a token that does not verify, a malformed header', async () => {
    expectEnvelope(
      await raw(request('GET', '/api/v1/me', { authorization: 'Bearer not.a.token' })),
      401,
      'INVALID_TOKEN',
    );
    expectEnvelope(
      await raw(request('GET', '/api/v1/me', { authorization: 'Basic dXNlcjpwdw==' })),
      401,
      'INVALID_TOKEN',
    );
    // and not for another origin
    expectEnvelope(
      await raw(request('GET', '/api/v1/me', { authorization: 'Bearer x', origin: FOREIGN })),
      401,
      'INVALID_TOKEN',
      FOREIGN,
    );
  });

  it('401 for a revoked session, so the web app can read it and refresh', async () => {
    const user = await createUser(t);
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.headers });
    expect(out.statusCode).toBe(204);
    expectEnvelope(await raw(request('GET', '/api/v1/me', user.headers)), 401, 'INVALID_TOKEN');
  });

  it('401 from a route guard', async () => {
    expectEnvelope(await raw(request('GET', '/api/v1/me')), 401, 'UNAUTHENTICATED');
  });

  it('400 for a malformed Idempotency-Key, refused by its hook before the body is read', async () => {
    const res = await raw(
      request(
        'POST',
        '/api/v1/posts',
        { 'idempotency-key': 'k'.repeat(300), 'content-type': 'application/json' },
        '{}',
      ),
    );
    expectEnvelope(res, 400, 'INVALID_IDEMPOTENCY_KEY');
  });

  it('400 for NUL in the URL', async () => {
    expectEnvelope(await raw(request('GET', '/api/v1/users/a%00b')), 400, 'NUL_CHARACTER');
  });

  it('400 for a URL the router cannot decode, 414 for a path parameter over the limit', async () => {
    expectEnvelope(await raw(request('GET', '/api/v1/users/%E0%A4%A')), 400, 'BAD_REQUEST');
    expectEnvelope(await raw(request('GET', `/api/v1/users/${'u'.repeat(300)}`)), 414, 'URI_TOO_LONG');
  });

  it('404 and 405', async () => {
    expectEnvelope(await raw(request('GET', '/api/v1/nope')), 404, 'ROUTE_NOT_FOUND');
    const res = await raw(request('DELETE', '/livez'));
    expectEnvelope(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe('GET');
  });

  it('400 from validation, 413 for a body over the limit, 415 for another type', async () => {
    const json = { 'content-type': 'application/json' };
    expectEnvelope(await raw(request('POST', '/api/v1/auth/login', json, '{}')), 400, 'VALIDATION_FAILED');
    expectEnvelope(
      await raw(request('POST', '/api/v1/auth/login', json, JSON.stringify({ login: 'x'.repeat(4096) }))),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectEnvelope(
      await raw(request('POST', '/api/v1/auth/login', { 'content-type': 'text/plain' }, 'hello')),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('429 from the rate-limit hook, with Retry-After', async () => {
    const signup = () =>
      raw(request('POST', '/api/v1/auth/signup', { 'content-type': 'application/json' }, '{}'));
    let res = await signup();
    for (let i = 0; i < 3 && res.status !== 429; i++) res = await signup();
    const error = expectEnvelope(res, 429, 'RATE_LIMITED');
    expect(error.details).toMatchObject({ policies: expect.arrayContaining(['signup-ip']) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['ratelimit-policy']).toBeTruthy();
  });

  it('500 without its cause', async () => {
    expectEnvelope(await raw(request('GET', '/test/boom')), 500, 'INTERNAL');
  });

  it('400, never 500, for values PostgreSQL refuses as data exceptions (class 22)', async () => {
    for (const kind of ['bigint', 'interval', 'datetime', 'text']) {
      const error = expectEnvelope(await raw(request('GET', `/test/db/${kind}`)), 400, 'INVALID_PARAMETER');
      // the database's wording stays in the log
      expect(error.message).not.toMatch(/bigint|interval|timestamp|integer|syntax/);
    }
  });

  it("400 from the HTTP parser for malformed framing, with Kith's body and headers", async () => {
    const badHeader = `GET /livez HTTP/1.1\r\nHost: kith.test\r\nOrigin: ${ORIGIN}\r\nBad Header: x\r\n\r\n`;
    expectEnvelope(await raw(badHeader), 400, 'BAD_REQUEST');
    const smuggling =
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: kith.test\r\nOrigin: ${ORIGIN}\r\n` +
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    expectEnvelope(await raw(smuggling), 400, 'BAD_REQUEST');
    const badChunk =
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: kith.test\r\nOrigin: ${ORIGIN}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n';
    expectEnvelope(await raw(badChunk), 400, 'BAD_REQUEST');
    expectEnvelope(await raw('NOT-HTTP\r\n\r\n'), 400, 'BAD_REQUEST', null);
  });

  it('431 from the HTTP parser for headers over the size limit', async () => {
    const big = `GET /livez HTTP/1.1\r\nHost: kith.test\r\nOrigin: ${ORIGIN}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    expectEnvelope(await raw(big), 431, 'HEADERS_TOO_LARGE');
    const foreign = `GET /livez HTTP/1.1\r\nHost: kith.test\r\nOrigin: ${FOREIGN}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    expectEnvelope(await raw(foreign), 431, 'HEADERS_TOO_LARGE', FOREIGN);
  });
});

describe('503 from the load shedder', async () => {
  // a heap limit every process exceeds: shedding starts at under-pressure's first sample
  const pressed = await buildTestApp({ ...production, MAX_HEAP_USED_BYTES: '1' });
  const pressedPort = Number(new URL(await pressed.app.listen({ host: '127.0.0.1', port: 0 })).port);

  it('answers 503 with Retry-After, the error body, the security headers and CORS', async () => {
    const attempt = () => raw(request('GET', '/api/v1/me', { authorization: 'Bearer x' }), pressedPort);
    const deadline = Date.now() + 10_000;
    let res = await attempt();
    while (res.status !== 503 && Date.now() < deadline) res = await attempt();
    expectEnvelope(res, 503, 'OVERLOADED');
    expect(res.headers['retry-after']).toBe('10');
  });
});

describe('503 from a server that is closing', async () => {
  const signal = () => {
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => {
      fire = resolve;
    });
    return { fire, fired };
  };
  const inHandler = signal();
  const release = signal();
  const closing = signal();
  const refused = signal();
  const closingApp = await buildTestApp(production, {
    extend: (app) => {
      app.get('/test/slow', async () => {
        inHandler.fire();
        await release.fired;
        return { ok: true };
      });
      app.addHook('preClose', (done) => {
        closing.fire();
        done();
      });
      app.addHook('onSend', async (_request, reply, payload) => {
        if (reply.statusCode === 503) refused.fire();
        return payload;
      });
    },
  });
  const closingPort = Number(new URL(await closingApp.app.listen({ host: '127.0.0.1', port: 0 })).port);

  /** Splits a stream of HTTP/1.1 answers (each with a Content-Length) into answers. */
  function answers(text: string): RawResponse[] {
    const out: RawResponse[] = [];
    let rest = text;
    while (rest.length > 0) {
      const split = rest.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = rest.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const length = Number(headers['content-length']);
      out.push({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: rest.slice(split + 4, split + 4 + length),
      });
      rest = rest.slice(split + 4 + length);
    }
    return out;
  }

  it('answers a request arriving on a kept-alive connection during close with 503 UNAVAILABLE', async () => {
    const socket = net.connect(closingPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(request('GET', '/test/slow', { connection: 'keep-alive' }));
    await inHandler.fired;
    // the first request is in flight: the connection is not idle, so closing keeps it open
    const closed = closingApp.close();
    await closing.fired;
    socket.write(request('GET', '/livez', { connection: 'keep-alive' }));
    await refused.fired;
    release.fire();
    await Promise.all([ended, closed]);
    const [first, second] = answers(Buffer.concat(chunks).toString('utf8'));
    expect(first?.status).toBe(200);
    const error = expectEnvelope(second!, 503, 'UNAVAILABLE');
    expect(error.message).toMatch(/shutting down/);
    expect(second!.headers.connection).toBe('close');
    expect(second!.headers['retry-after']).toBe('1');
  });
});
