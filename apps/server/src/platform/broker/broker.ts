import { type Context, context, type Span, SpanKind, trace } from '@opentelemetry/api';
import {
  asCarrier,
  currentCarrier,
  type TraceCarrier,
  tracer,
  tracingActive,
} from '../observability/trace-context.ts';

/**
 * Gets a message with the JSON it travelled as, and the batch it arrived in (the messages of one
 * payload, see SEPARATOR; the same array for every channel it reached; Kith's brokers always pass
 * both). All of them are shared by
 * every subscriber of every channel (parsed once per instance): frozen, read them only.
 */
export type BrokerHandler = (
  message: unknown,
  json: string,
  delivery?: Delivery,
  batch?: readonly Delivery[],
) => void;

/**
 * Publish/subscribe between instances. Delivery is best effort: whatever must not be lost is in
 * Postgres, and subscribers catch up from there.
 */
export interface Broker {
  /** Publishes one message to one channel or to each of several (serialized once, one command). */
  publish(channels: string | readonly string[], message: unknown): Promise<void>;
  /** Returns a function that removes this subscription. */
  subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>>;
  /** false while a remote broker is unreachable (messages may be missed). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

/** Freezes a parsed JSON value all the way down (its subscribers share it). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** One message as its subscribers get it. */
export interface Delivery {
  message: unknown;
  json: string;
  /** The trace context of the span that published it, when it was published inside traced work. */
  trace?: TraceCarrier;
}

/**
 * Messages travel between instances as their JSON, several in one payload separated by newlines
 * (JSON.stringify never writes a raw newline). A message published inside traced work is preceded
 * by a line `{"_trace":{"traceparent":…}}` (TRACE_LINE_START) that applies to it alone: an instance
 * that does not know these lines hands them to its subscribers as a message with no `type`, which
 * every subscriber ignores, so old and new instances can share a channel during a rolling deploy.
 */
export const SEPARATOR = '\n';
const TRACE_LINE_START = '{"_trace":';

/** The line that carries a message's trace context before it in a payload. */
export function traceLine(carrier: TraceCarrier): string {
  return `${TRACE_LINE_START}${JSON.stringify(carrier)}}`;
}

/** What a publish inside traced work starts: its span, the context to send in, the carrier. */
export interface PublishTrace {
  span: Span;
  context: Context;
  carrier: TraceCarrier;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The producer span of a publish made inside traced work (none otherwise: untraced publishes, such
 * as presence refreshes, start no trace). Named after the event type, or the channel with its ids
 * elided, so that span names stay few.
 */
export function startPublishSpan(
  system: string,
  channels: readonly string[],
  message: unknown,
): PublishTrace | undefined {
  if (!tracingActive() || !trace.getSpan(context.active())) return undefined;
  const type = (message as { type?: unknown } | null)?.type;
  const destination = channels.length === 1 ? channels[0]!.replace(UUID, '{id}') : 'user.{id}';
  const span = tracer().startSpan(`publish ${typeof type === 'string' ? type : destination}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': system,
      'messaging.operation.type': 'publish',
      'messaging.destination.name': destination,
      'kith.broker.channels': channels.length,
    },
  });
  const ctx = trace.setSpan(context.active(), span);
  const carrier = currentCarrier(ctx);
  if (!carrier) {
    span.end();
    return undefined;
  }
  return { span, context: ctx, carrier };
}

/**
 * Parses what a broker receives, once per distinct payload: a payload published to many channels
 * arrives once per channel, back to back, and all of them share the first parse.
 */
export class SharedParse {
  private lastPayload: string | undefined;
  private lastDeliveries: readonly Delivery[] = [];

  parse(payload: string): readonly Delivery[] {
    if (payload !== this.lastPayload) {
      const deliveries: Delivery[] = [];
      let carrier: TraceCarrier | undefined;
      for (const json of payload.split(SEPARATOR)) {
        if (json.startsWith(TRACE_LINE_START)) {
          carrier = asCarrier((JSON.parse(json) as { _trace?: unknown })._trace);
          continue;
        }
        const message = deepFreeze(JSON.parse(json));
        deliveries.push(carrier ? { message, json, trace: carrier } : { message, json });
        carrier = undefined;
      }
      this.lastDeliveries = deliveries;
      this.lastPayload = payload;
    }
    return this.lastDeliveries;
  }
}
