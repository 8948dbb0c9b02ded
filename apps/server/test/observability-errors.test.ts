import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { createErrorReporting, type ErrorReporting } from '../src/platform/observability/error-reporting.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { createPlatform, type Platform } from '../src/platform/platform.ts';
import { testConfig } from './helpers/app.ts';
import { createTestDatabase } from './helpers/database.ts';

/** A stand-in for a Sentry ingest endpoint: records every envelope POSTed to it. */
interface Ingest {
  server: Server;
  envelopes: { path: string; items: unknown[] }[];
  waitForEnvelope(predicate: (items: unknown[]) => boolean, timeoutMs?: number): Promise<unknown[]>;
}

async function startIngest(): Promise<Ingest> {
  const envelopes: Ingest['envelopes'] = [];
  const waiters = new Set<() => void>();
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  };
  const server = createServer((req, res) => {
    read(req).then((body) => {
      const items = body
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          try {
            return JSON.parse(line);
          } catch {
            return line;
          }
        });
      envelopes.push({ path: req.url ?? '', items });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    envelopes,
    waitForEnvelope: (predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = envelopes.find((e) => predicate(e.items));
          if (!found) return;
          done();
          resolve(found.items);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching envelope in ${timeoutMs} ms; got ${JSON.stringify(envelopes)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

let ingest: Ingest;
let platform: Platform;
let reporting: ErrorReporting;
let app: Awaited<ReturnType<typeof buildApp>>;
let teardown: () => Promise<void>;

beforeAll(async () => {
  ingest = await startIngest();
  const { port } = ingest.server.address() as AddressInfo;
  const database = await createTestDatabase();
  const config = testConfig(database.url, { SENTRY_DSN: `http://publickey@127.0.0.1:${port}/1` });
  const logger = createLogger('silent');
  reporting = await createErrorReporting(config, logger);
  platform = await createPlatform({
    config,
    logger,
    databaseUrl: database.url,
    reportError: reporting.report,
  });
  app = await buildApp(platform, { docs: false });
  // test-only routes: an unhandled failure, and a client error that must not be reported
  app.get('/test/crash', async () => {
    throw new Error('forced failure for the error reporter');
  });
  await app.ready();
  teardown = async () => {
    await app.close();
    await platform.close();
    await reporting.close();
    await database.drop();
    await new Promise((r) => ingest.server.close(r));
  };
});

afterAll(async () => {
  await teardown?.();
});

describe('error reporting (Sentry-compatible)', () => {
  it('sends an envelope for an unhandled 5xx, tagged with the request id', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/test/crash',
      headers: { 'x-request-id': 'crash-1' },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ code: 'INTERNAL', requestId: 'crash-1' });
    const items = await ingest.waitForEnvelope((items) => JSON.stringify(items).includes('forced failure'));
    const event = items.find(
      (i): i is { exception: { values: { value: string }[] }; tags: Record<string, string> } =>
        typeof i === 'object' && i !== null && 'exception' in i,
    );
    expect(event?.exception.values[0]?.value).toBe('forced failure for the error reporter');
    expect(event?.tags).toMatchObject({ request_id: 'crash-1', route: '/test/crash' });
    expect(ingest.envelopes.every((e) => e.path.startsWith('/api/1/envelope/'))).toBe(true);
  });

  it('does not report client errors (4xx)', async () => {
    const before = ingest.envelopes.length;
    expect((await app.inject({ method: 'GET', url: '/api/v1/none' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(401);
    // a 5xx afterwards is a marker: when its envelope has arrived, anything sent before it has too
    await app.inject({ method: 'GET', url: '/test/crash', headers: { 'x-request-id': 'crash-2' } });
    await ingest.waitForEnvelope((items) => JSON.stringify(items).includes('crash-2'));
    expect(ingest.envelopes.length).toBe(before + 1);
  });

  it('is a no-op without SENTRY_DSN (and loads no SDK)', async () => {
    const none = await createErrorReporting({ sentryDsn: undefined, env: 'test' }, createLogger('silent'));
    expect(() => none.report(new Error('x'), {} as never)).not.toThrow();
    await none.close();
  });
});
