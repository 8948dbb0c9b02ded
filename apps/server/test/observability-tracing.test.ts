import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/platform/db/embedded.ts';
import { createTestDatabase } from './helpers/database.ts';
import { type ServerProcess, spawnServer, stopServer } from './helpers/process.ts';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  scope: string;
}

/** A minimal OTLP/HTTP (JSON) collector: keeps every span POSTed to /v1/traces. */
async function startCollector(): Promise<{ server: Server; spans: Span[]; paths: string[] }> {
  const spans: Span[] = [];
  const paths: string[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
    if (req.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const span of ss.spans ?? []) spans.push({ ...span, scope: ss.scope?.name });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, spans, paths };
}

let collector: Awaited<ReturnType<typeof startCollector>>;
let server: ServerProcess;
let metricsPort: number;
let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  collector = await startCollector();
  database = await createTestDatabase();
  metricsPort = await freePort();
  server = await spawnServer({
    env: {
      DATABASE_URL: database.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}`,
      OTEL_SERVICE_NAME: 'kith-under-test',
      METRICS_PORT: String(metricsPort),
      KITH_ROLES: 'api',
    },
  });
});

afterAll(async () => {
  if (server && server.child.exitCode === null) await stopServer(server, 'SIGKILL');
  await database?.drop();
  await new Promise((r) => collector?.server.close(r));
});

describe('tracing and the metrics port (real process)', () => {
  it('serves /metrics on METRICS_PORT only', async () => {
    await fetch(`${server.url}/livez`);
    const main = await fetch(`${server.url}/metrics`);
    expect(main.status).toBe(404);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/kith_http_requests_total\{method="GET",route="\/livez",status="200"\} 1/);
  });

  it('exports HTTP, Fastify and pg spans over OTLP and logs the trace id', async () => {
    const res = await fetch(`${server.url}/readyz`, { headers: { 'x-request-id': 'traced-readyz' } });
    expect(res.status).toBe(200);
    const line = await server.waitForLog(
      (l) => l.request_id === 'traced-readyz' && l.msg === 'request completed',
    );
    const traceId = line.trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    // stopping flushes the batch of spans still buffered
    const exit = await stopServer(server, 'SIGTERM');
    expect(exit.code).toBe(0);

    const trace = collector.spans.filter((s) => s.traceId === traceId);
    const scopes = new Set(trace.map((s) => s.scope));
    expect(scopes).toContain('@opentelemetry/instrumentation-http');
    expect(scopes).toContain('@fastify/otel');
    expect(scopes).toContain('@opentelemetry/instrumentation-pg');
    const httpServer = trace.find((s) => s.scope === '@opentelemetry/instrumentation-http' && s.kind === 2);
    expect(httpServer).toBeDefined();
    const query = trace.find(
      (s) =>
        s.scope === '@opentelemetry/instrumentation-pg' &&
        /SELECT/i.test(s.name + JSON.stringify(s.attributes)),
    );
    expect(query).toBeDefined();
    // every span of the request hangs under the HTTP server span
    const ids = new Set(trace.map((s) => s.spanId));
    for (const span of trace) if (span !== httpServer) expect(ids.has(span.parentSpanId ?? '')).toBe(true);
    expect(collector.paths.every((p) => p.startsWith('POST /v1/traces'))).toBe(true);
  });
});
