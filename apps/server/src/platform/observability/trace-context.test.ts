import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Delivery, SEPARATOR, SharedParse, traceLine } from '../broker/broker.ts';
import { MemoryBroker } from '../broker/memory-broker.ts';
import { splitTrace } from '../queue/worker.ts';
import {
  contextFrom,
  currentCarrier,
  enableTracePropagation,
  inSpan,
  TRACE_FIELD,
  tracer,
} from './trace-context.ts';

// Sampling as Kith configures it, with a ratio of 0: no new trace is kept, but work under a sampled
// parent (a request's job, a broker delivery) is, and an unsampled decision travels with the context.
const exporter = new node.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({
  sampler: new node.ParentBasedSampler({ root: new node.TraceIdRatioBasedSampler(0) }),
  spanProcessors: [new node.SimpleSpanProcessor(exporter)],
});
const SAMPLED_PARENT = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

beforeAll(() => {
  provider.register();
  enableTracePropagation();
});
afterAll(async () => {
  enableTracePropagation(false);
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const nextDelivery = (broker: MemoryBroker, channel: string) =>
  new Promise<{ json: string; delivery?: Delivery; batch?: readonly Delivery[] }>((resolve) => {
    void broker.subscribe(channel, (_m, json, delivery, batch) => resolve({ json, delivery, batch }));
  });

describe('trace context across the broker', () => {
  it('a publish inside traced work is a producer span whose context reaches the subscriber', async () => {
    exporter.reset();
    const broker = new MemoryBroker();
    const got = nextDelivery(broker, 'user.0190a0a0-0000-7000-8000-000000000001');
    await inSpan('work', { parent: contextFrom(SAMPLED_PARENT) }, () =>
      broker.publish('user.0190a0a0-0000-7000-8000-000000000001', { type: 'test.event', n: 1 }),
    );
    const { json, delivery, batch } = await got;
    // subscribers (the sockets) get the message's JSON as it was: no trace field in it
    expect(json).toBe('{"type":"test.event","n":1}');
    expect(batch).toEqual([delivery]);
    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.name === 'publish test.event')!;
    const work = spans.find((s) => s.name === 'work')!;
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.parentSpanContext?.spanId).toBe(work.spanContext().spanId);
    expect(publish.attributes['messaging.destination.name']).toBe('user.{id}');
    expect(delivery?.trace?.traceparent).toBe(
      `00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`,
    );
  });

  it('a publish outside traced work carries nothing and starts no trace', async () => {
    exporter.reset();
    const broker = new MemoryBroker();
    const got = nextDelivery(broker, 'presence');
    await broker.publish('presence', { type: 'presence' });
    expect((await got).delivery?.trace).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('reads trace lines in a batched payload, and payloads without them as before', () => {
    const first = '{"type":"message.new","seq":1}';
    const second = '{"type":"message.new","seq":2}';
    const parsed = new SharedParse().parse([traceLine(SAMPLED_PARENT), first, second].join(SEPARATOR));
    expect(parsed.map((d) => [d.json, d.trace])).toEqual([
      [first, SAMPLED_PARENT],
      [second, undefined],
    ]);
    const old = new SharedParse().parse([first, second].join(SEPARATOR));
    expect(old.map((d) => [d.json, d.trace])).toEqual([
      [first, undefined],
      [second, undefined],
    ]);
    // an instance that predates trace lines parses one as a message without a type (which every
    // subscriber ignores), and the rest of the payload is intact
    const lines = [traceLine(SAMPLED_PARENT), first]
      .join(SEPARATOR)
      .split(SEPARATOR)
      .map((l) => JSON.parse(l));
    expect(lines[0].type).toBeUndefined();
    expect(lines[1]).toEqual({ type: 'message.new', seq: 1 });
  });

  it('a malformed trace line carries no context but keeps its message', () => {
    const parsed = new SharedParse().parse(['{"_trace":{"traceparent":7}}', '{"type":"x"}'].join(SEPARATOR));
    expect(parsed).toEqual([{ message: { type: 'x' }, json: '{"type":"x"}' }]);
  });
});

describe('trace context in job payloads', () => {
  it('is stripped before the handler sees the payload, whether or not it is well formed', () => {
    expect(splitTrace({ postId: 'p1', [TRACE_FIELD]: SAMPLED_PARENT })).toEqual({
      payload: { postId: 'p1' },
      trace: SAMPLED_PARENT,
    });
    expect(splitTrace({ postId: 'p1', [TRACE_FIELD]: 'not a carrier' })).toEqual({
      payload: { postId: 'p1' },
      trace: undefined,
    });
    const plain = { postId: 'p1' };
    expect(splitTrace(plain).payload).toBe(plain);
  });
});

describe('parent-based sampling', () => {
  it('keeps no new root at ratio 0, yet passes the decision on to what the work causes', async () => {
    exporter.reset();
    const root = tracer().startSpan('root');
    expect(root.isRecording()).toBe(false);
    const carrier = currentCarrier(trace.setSpan(context.active(), root));
    expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    const child = tracer().startSpan('job', {}, contextFrom(carrier));
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    child.end();
    root.end();
    const kept = tracer().startSpan('job', {}, contextFrom(SAMPLED_PARENT));
    expect(kept.isRecording()).toBe(true);
    kept.end();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['job']);
  });
});
