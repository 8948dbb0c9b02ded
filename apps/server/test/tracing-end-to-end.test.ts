import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { signupOn, startCluster } from './helpers/cluster.ts';
import { stopServer } from './helpers/process.ts';
import { until } from './helpers/wait.ts';
import { connect } from './helpers/ws-client.ts';

// One trace from request to socket, across two real Kith processes (instance 1: every role;
// instance 2: realtime only) on one database and a redis-server of the test's own, both exporting
// OTLP/HTTP (JSON) to a receiver the test runs.

interface ExportedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string }[];
}

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/** A minimal OTLP/HTTP JSON receiver: keeps every span POSTed to /v1/traces with its service. */
async function startReceiver(): Promise<{ server: Server; spans: ExportedSpan[]; url: string }> {
  const spans: ExportedSpan[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === 'POST' && req.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value
          ?.stringValue;
        for (const ss of rs.scopeSpans ?? [])
          for (const span of ss.spans ?? []) spans.push({ ...span, service, scope: ss.scope?.name });
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, spans, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const receiver = await startReceiver();
afterAll(() => new Promise((resolve) => receiver.server.close(resolve)));
const env = {
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_TRACES_SAMPLER_RATIO: '1',
  // the SDK's own batch delay (its standard variable): spans reach the receiver while the test waits
  OTEL_BSP_SCHEDULE_DELAY: '100',
};
const {
  servers: [one, two],
} = await startCluster({
  name: 'tracing',
  env,
  instances: [
    { env: { OTEL_SERVICE_NAME: 'kith-one' } },
    { env: { OTEL_SERVICE_NAME: 'kith-two' }, args: ['--role', 'realtime'] },
  ],
});
const signup = () => signupOn(one.url);

const attr = (span: ExportedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

/** Waits until the receiver holds a span matching `predicate`, and returns it. */
async function spanWhere(what: string, predicate: (span: ExportedSpan) => boolean): Promise<ExportedSpan> {
  await until(() => receiver.spans.some(predicate), { what, timeoutMs: 20_000 });
  return receiver.spans.find(predicate)!;
}

/** The span's parent chain within its trace, nearest first. */
function ancestors(span: ExportedSpan): ExportedSpan[] {
  const chain: ExportedSpan[] = [];
  let current: ExportedSpan | undefined = span;
  while (current?.parentSpanId) {
    const parentId: string = current.parentSpanId;
    current = receiver.spans.find((s) => s.traceId === span.traceId && s.spanId === parentId);
    if (current) chain.push(current);
  }
  return chain;
}

describe('one trace from request to socket', () => {
  it('POST /api/v1/posts → its jobs → the notification publish → the socket on the other instance', async () => {
    const [author, reader] = [await signup(), await signup()];
    const socket = await connect(two.url, reader.accessToken);
    await socket.waitFor('hello');

    const requestId = `trace-post-${randomUUID()}`;
    const res = await fetch(`${one.url}/api/v1/posts`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${author.accessToken}`,
        'x-request-id': requestId,
      },
      body: JSON.stringify({ text: `traced hello @${reader.username}`, visibility: 'public' }),
    });
    expect(res.status).toBe(201);
    const line = await one.waitForLog((l) => l.request_id === requestId && l.msg === 'request completed');
    const traceId = line.trace_id as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // the mention reaches the reader's socket on instance 2
    await socket.waitFor('notification.new', undefined, 20_000);

    // job lines carry the trace id of the request that enqueued them
    for (const task of ['feed.fan-out', 'notifications.mentions']) {
      const job = await one.waitForLog((l) => l.task === task && l.msg === 'job completed', 20_000);
      expect(job.trace_id).toBe(traceId);
    }

    const inTrace = (s: ExportedSpan) => s.traceId === traceId;
    const delivered = await spanWhere(
      'the delivery span on instance 2',
      (s) => inTrace(s) && s.service === 'kith-two' && s.name === 'deliver websocket',
    );
    const publish = await spanWhere(
      'the notification publish span',
      (s) => inTrace(s) && s.name === 'publish notification.new',
    );
    const fanOut = await spanWhere(
      'the fan-out job span',
      (s) => inTrace(s) && s.name === 'process feed.fan-out',
    );
    const mentions = await spanWhere(
      'the mentions job span',
      (s) => inTrace(s) && s.name === 'process notifications.mentions',
    );
    const request = await spanWhere(
      'the HTTP server span',
      (s) => inTrace(s) && s.kind === SERVER && s.scope === '@opentelemetry/instrumentation-http',
    );
    expect(attr(request, 'http.route') ?? request.name).toMatch(/\/api\/v1\/posts/);
    expect(request.parentSpanId ?? '').toBe('');

    // request → send feed.fan-out → process feed.fan-out (on the worker, as a consumer)
    expect(fanOut.kind).toBe(CONSUMER);
    expect(fanOut.service).toBe('kith-one');
    const fanOutChain = ancestors(fanOut);
    expect(fanOutChain[0]).toMatchObject({ name: 'send feed.fan-out', kind: PRODUCER });
    expect(fanOutChain.at(-1)?.spanId).toBe(request.spanId);
    // the job's own queries hang under it
    expect(
      receiver.spans.some(
        (s) =>
          inTrace(s) && s.scope === '@opentelemetry/instrumentation-pg' && s.parentSpanId === fanOut.spanId,
      ),
    ).toBe(true);

    // request → send notifications.mentions → process → publish notification.new (and its PUBLISH)
    expect(ancestors(mentions).at(-1)?.spanId).toBe(request.spanId);
    expect(publish.kind).toBe(PRODUCER);
    expect(ancestors(publish).map((s) => s.spanId)).toContain(mentions.spanId);
    await spanWhere(
      'the Redis PUBLISH under the publish span',
      (s) =>
        inTrace(s) &&
        s.scope === '@opentelemetry/instrumentation-ioredis' &&
        s.parentSpanId === publish.spanId,
    );

    // → the socket delivery on instance 2: a child of the publish, linked to it
    expect(delivered.kind).toBe(CONSUMER);
    expect(delivered.parentSpanId).toBe(publish.spanId);
    expect(delivered.links?.map((l) => l.spanId)).toContain(publish.spanId);
    expect(Number(attr(delivered, 'kith.realtime.sockets'))).toBe(1);
    await socket.close();
  });

  it("a chat send's trace reaches the instance that delivers it", async () => {
    const [sender, recipient] = [await signup(), await signup()];
    const created = await fetch(`${one.url}/api/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sender.accessToken}` },
      body: JSON.stringify({ usernames: [recipient.username] }),
    });
    expect(created.status).toBeLessThan(300);
    const conversationId = ((await created.json()) as { id: string }).id;
    const from = await connect(one.url, sender.accessToken);
    const to = await connect(two.url, recipient.accessToken);
    await Promise.all([from.waitFor('hello'), to.waitFor('hello')]);

    const clientMessageId = randomUUID();
    from.send({ type: 'message.send', conversationId, clientMessageId, body: 'traced message' });
    const ack = await from.waitFor('message.ack', (a) => a.clientMessageId === clientMessageId);
    const got = await to.waitFor('message.new', (e) => e.message.id === ack.id, 20_000);
    expect(got.message.body).toBe('traced message');

    const send = await spanWhere(
      'the chat.send span',
      (s) => s.name === 'chat.send' && s.service === 'kith-one',
    );
    expect(send.parentSpanId ?? '').toBe(''); // a socket frame: the root of its trace
    const publish = await spanWhere(
      'the message.new publish span',
      (s) => s.traceId === send.traceId && s.name === 'publish message.new',
    );
    expect(ancestors(publish).map((s) => s.spanId)).toContain(send.spanId);
    const delivered = await spanWhere(
      'the delivery span on instance 2',
      (s) => s.traceId === send.traceId && s.service === 'kith-two' && s.name === 'deliver websocket',
    );
    expect(delivered.parentSpanId).toBe(publish.spanId);
    expect(delivered.links?.map((l) => l.spanId)).toContain(publish.spanId);
    // the commit's statement is in the same trace
    expect(
      receiver.spans.some(
        (s) => s.traceId === send.traceId && s.scope === '@opentelemetry/instrumentation-pg',
      ),
    ).toBe(true);
    await Promise.all([from.close(), to.close()]);

    // both processes stop cleanly, flushing what they still buffer
    const exits = await Promise.all([stopServer(one), stopServer(two)]);
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
  });
});
