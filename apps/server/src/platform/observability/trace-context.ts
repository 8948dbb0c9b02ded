import {
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/**
 * Trace context across Kith's own hops — job payloads and broker messages — where no library
 * instrumentation carries it. Everything here is a no-op (one boolean test) until `startTracing`
 * turned it on, so the untraced path costs nothing and job payloads and broker messages stay as
 * they were.
 */

/** W3C trace context as it travels in a job payload (`_trace`) or a broker message line. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** The reserved job-payload field; stripped before a handler sees the payload. */
export const TRACE_FIELD = '_trace';

let active = false;

/** Called by startTracing once the SDK (and its W3C propagator) is installed. */
export function enableTracePropagation(on = true): void {
  active = on;
}

export function tracingActive(): boolean {
  return active;
}

export const tracer = () => trace.getTracer('kith');

/** The current span's context as a carrier, when tracing is on and a span is current. */
export function currentCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  if (!active || !trace.getSpan(ctx)) return undefined;
  const carrier: Partial<TraceCarrier> = {};
  propagation.inject(ctx, carrier);
  if (typeof carrier.traceparent !== 'string') return undefined;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

/** A carrier read back from JSON: anything else (missing, malformed, hostile) is no carrier. */
export function asCarrier(value: unknown): TraceCarrier | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== 'string' || traceparent.length > 128) return undefined;
  if (tracestate !== undefined && (typeof tracestate !== 'string' || tracestate.length > 512))
    return undefined;
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The remote context a carrier names (the root context when it names none). */
export function contextFrom(carrier: TraceCarrier | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

/** The span context a carrier names, valid or undefined (for links). */
export function spanContextOf(carrier: TraceCarrier | undefined): SpanContext | undefined {
  const spanContext = carrier ? trace.getSpanContext(contextFrom(carrier)) : undefined;
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * Runs `fn` inside a new span (current while `fn` runs), ended when its promise settles and marked
 * as an error when it rejects. Without tracing, `fn` runs as is.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions & { parent?: Context },
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!active) return fn(undefined);
  const { parent = context.active(), ...spanOptions } = options;
  return tracer().startActiveSpan(name, spanOptions, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

export function recordError(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : undefined });
}

/** Links to each distinct span context among `carriers`. */
export function linksTo(carriers: Iterable<TraceCarrier | undefined>): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const carrier of carriers) {
    const spanContext = spanContextOf(carrier);
    if (!spanContext || seen.has(spanContext.spanId)) continue;
    seen.add(spanContext.spanId);
    links.push({ context: spanContext });
  }
  return links;
}
