import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { multipart, png } from './media-helpers.ts';

/**
 * Slow and hostile clients at the socket level: a client that trickles its headers or its body is
 * cut with a 408 while others are served; an answer sent while the client is still uploading
 * (413, 401) is read by `fetch` (undici), not turned into a network error by a reset.
 */

const MEDIA_MAX = 64 * 1024;
const BIG = 16 * 1024 * 1024;

function expectKithError(body: unknown, code: string, requestId: string | null) {
  expect(body).toEqual({ error: { code, message: expect.any(String), requestId } });
}

/** A body fetch streams in 64 KiB chunks, with no Content-Length (Transfer-Encoding: chunked). */
function streamed(buf: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= buf.length) return controller.close();
      controller.enqueue(buf.subarray(offset, offset + 64 * 1024));
      offset += 64 * 1024;
    },
  });
}

describe('an answer sent while the client still uploads reaches fetch', async () => {
  const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, MEDIA_MAX_BYTES: String(MEDIA_MAX) });
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const user = await createUser(t);
  // a real image header (sniffed as PNG), then far more bytes than the cap
  const image = Buffer.concat([await png(), Buffer.alloc(BIG, 7)]);
  const upload = multipart([{ name: 'file', filename: 'huge.png', contentType: 'image/png', data: image }]);
  const json = Buffer.from(JSON.stringify({ username: 'x'.repeat(BIG) }));

  const post = (path: string, headers: Record<string, string>, body: Buffer | ReadableStream<Uint8Array>) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);

  it('413 for a media upload over the cap, with a declared length', async () => {
    const res = await post('/api/v1/media', { ...user.headers, ...upload.headers }, upload.payload);
    expect(res.status).toBe(413);
    expectKithError(await res.json(), 'MEDIA_TOO_LARGE', res.headers.get('x-request-id'));
  });

  it('413 for a media upload over the cap, streamed without a length', async () => {
    const res = await post('/api/v1/media', { ...user.headers, ...upload.headers }, streamed(upload.payload));
    expect(res.status).toBe(413);
    expectKithError(await res.json(), 'MEDIA_TOO_LARGE', res.headers.get('x-request-id'));
  });

  it('413 for a JSON body over the limit, declared or streamed', async () => {
    const headers = { 'content-type': 'application/json' };
    const declared = await post('/api/v1/auth/signup', headers, json);
    expect(declared.status).toBe(413);
    expectKithError(await declared.json(), 'PAYLOAD_TOO_LARGE', declared.headers.get('x-request-id'));
    const chunked = await post('/api/v1/auth/signup', headers, streamed(json));
    expect(chunked.status).toBe(413);
    expectKithError(await chunked.json(), 'PAYLOAD_TOO_LARGE', chunked.headers.get('x-request-id'));
  });

  it('401 for an upload without a token, answered before the body is read', async () => {
    const res = await post('/api/v1/media', upload.headers, streamed(upload.payload));
    expect(res.status).toBe(401);
    expectKithError(await res.json(), 'UNAUTHENTICATED', res.headers.get('x-request-id'));
  });

  it('415 for a streamed upload that is not an image, and the connection closes', async () => {
    const junk = multipart([
      { name: 'file', filename: 'x.png', contentType: 'image/png', data: Buffer.alloc(BIG, 1) },
    ]);
    const res = await post('/api/v1/media', { ...user.headers, ...junk.headers }, streamed(junk.payload));
    expect(res.status).toBe(415);
    // answered before the body was read: the server drains what is left, then closes
    expect(res.headers.get('connection')).toBe('close');
    expectKithError(await res.json(), 'UNSUPPORTED_IMAGE', res.headers.get('x-request-id'));
  });

  it('lets a client finish sending its body after an early 413, without a reset', async () => {
    const port = Number(new URL(base).port);
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const errors: string[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const head =
      'POST /api/v1/media HTTP/1.1\r\nHost: kith.test\r\n' +
      `Authorization: ${user.headers.authorization}\r\nContent-Type: ${upload.headers['content-type']}\r\n` +
      `Content-Length: ${upload.payload.length}\r\n\r\n`;
    socket.write(head);
    // all of it, far more than the kernels buffer: a server that closes early resets this client
    socket.end(upload.payload);
    await closed;
    expect(errors).toEqual([]);
    expect(socket.bytesWritten).toBe(head.length + upload.payload.length);
    const text = Buffer.concat(chunks).toString('utf8');
    const split = text.indexOf('\r\n\r\n');
    expect(text.slice(0, split)).toMatch(/^HTTP\/1\.1 413 /);
    expect(text.slice(0, split).toLowerCase()).toContain('connection: close');
    expect(JSON.parse(text.slice(split + 4)).error.code).toBe('MEDIA_TOO_LARGE');
  });

  it('serves the next request normally afterwards', async () => {
    const res = await fetch(`${base}/api/v1/me`, { headers: user.headers });
    expect(res.status).toBe(200);
  });
});

interface Trickler {
  /** Everything the server sent, once it closed the connection. */
  answer: Promise<string>;
  stop(): void;
}

/**
 * A client that sends `head` and then one more byte of `drip` every `everyMs` until `until`: the
 * server ending its side ('end'), or the connection being gone ('close': it keeps sending after the
 * server's answer, so a server that closes for good resets it).
 */
function trickle(
  port: number,
  head: string,
  drip: string,
  everyMs = 20,
  until: 'end' | 'close' = 'end',
): Trickler {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearInterval(timer);
    socket.destroy();
  };
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    const done = () => {
      clearInterval(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    socket.on(until, done);
    socket.on('close', done);
  });
  socket.on('connect', () => {
    socket.write(head);
    let i = 0;
    timer = setInterval(() => {
      if (!socket.writable) return clearInterval(timer);
      socket.write(drip[i++ % drip.length]!);
    }, everyMs);
  });
  return { answer, stop };
}

function parseAnswer(text: string) {
  const split = text.indexOf('\r\n\r\n');
  const status = Number(text.slice(0, split).split(' ')[1]);
  const headers = Object.fromEntries(
    text
      .slice(0, split)
      .split('\r\n')
      .slice(1)
      .map((line) => [
        line.slice(0, line.indexOf(':')).toLowerCase(),
        line.slice(line.indexOf(':') + 1).trim(),
      ]),
  );
  return { status, headers, body: JSON.parse(text.slice(split + 4)) };
}

describe('slow clients are cut, others are served', async () => {
  const t = await buildTestApp({
    HTTP_HEADERS_TIMEOUT_MS: '300',
    HTTP_REQUEST_TIMEOUT_MS: '1000',
  });
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(base).port);

  it('refuses a headers timeout longer than the request timeout at start', () => {
    const load = () => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '10' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
  });

  it('applies the configured socket timeouts to the server', () => {
    const server = t.app.server;
    expect(server.headersTimeout).toBe(300);
    expect(server.requestTimeout).toBe(1000);
    expect(server.keepAliveTimeout).toBe(t.platform.config.http.keepAliveTimeoutMs);
    expect(server.timeout).toBe(t.platform.config.http.idleTimeoutMs);
    // idle keep-alive lasts longer than the 60 s idle timeout of nginx and AWS load balancers
    expect(t.platform.config.http.keepAliveTimeoutMs).toBeGreaterThan(60_000);
  });

  it('cuts clients that trickle their headers with a 408, while other connections are served', async () => {
    const tricklers = Array.from({ length: 20 }, () =>
      trickle(port, 'GET /livez HTTP/1.1\r\nHost: kith.test\r\nX-Slow: ', 'abcdefgh'),
    );
    try {
      const normal = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${base}/livez`).then((res) => res.status)),
      );
      expect(normal).toEqual(Array(20).fill(200));
      for (const answer of await Promise.all(tricklers.map((c) => c.answer))) {
        const { status, headers, body } = parseAnswer(answer);
        expect(status).toBe(408);
        expect(headers.connection).toBe('close');
        expect(headers['x-content-type-options']).toBe('nosniff');
        expectKithError(body, 'REQUEST_TIMEOUT', headers['x-request-id']!);
      }
    } finally {
      for (const c of tricklers) c.stop();
    }
  });

  it('cuts a client that trickles its body with a 408', async () => {
    const slow = trickle(
      port,
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: kith.test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"login":"',
      'a',
      50,
    );
    try {
      const { status, body, headers } = parseAnswer(await slow.answer);
      expect(status).toBe(408);
      expectKithError(body, 'REQUEST_TIMEOUT', headers['x-request-id']!);
    } finally {
      slow.stop();
    }
  });
});

describe('the drain after an early answer is bounded', async () => {
  // no request timeout to speak of: only the lingering close's own budgets end these connections
  const t = await buildTestApp({
    HTTP_LINGER_TIMEOUT_MS: '200',
    HTTP_LINGER_MAX_BYTES: String(256 * 1024),
    BODY_LIMIT_BYTES: '2048',
  });
  const port = Number(new URL(await t.app.listen({ host: '127.0.0.1', port: 0 })).port);
  const oversized = (length: number) =>
    'POST /api/v1/auth/login HTTP/1.1\r\nHost: kith.test\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${length}\r\n\r\n`;

  it('reads at most HTTP_LINGER_MAX_BYTES of an oversized body, then closes', async () => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.write(oversized(1024 ** 3));
    // keep sending as fast as the server reads, until it stops reading and closes
    let sent = 0;
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const pump = async () => {
      while (!socket.destroyed && socket.writable) {
        sent += chunk.length;
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
    };
    await Promise.all([pump(), closed]);
    const { status, body, headers } = parseAnswer(Buffer.concat(chunks).toString('utf8'));
    expect(status).toBe(413);
    expect(headers.connection).toBe('close');
    expectKithError(body, 'PAYLOAD_TOO_LARGE', headers['x-request-id']!);
    // the budget plus what the two kernels buffer, far from the gigabyte announced
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('reads for at most HTTP_LINGER_TIMEOUT_MS from a client that keeps sending slowly', async () => {
    const slow = trickle(port, oversized(1024 ** 2), ' ', 20, 'close');
    try {
      const { status, body, headers } = parseAnswer(await slow.answer);
      expect(status).toBe(413);
      expectKithError(body, 'PAYLOAD_TOO_LARGE', headers['x-request-id']!);
    } finally {
      slow.stop();
    }
  });
});
