import { Counter, type Registry } from 'prom-client';

/** Outcomes of one push delivery attempt. */
export type PushOutcome =
  | 'sent'
  | 'gone'
  | 'retry'
  | 'gave_up'
  | 'removed_failing'
  | 'rejected'
  | 'refused'
  | 'flag_off';

/** Web Push deliveries by outcome (one registry per process; tests build several apps). */
export function pushMetrics(registry: Registry) {
  const name = 'kith_push_deliveries_total';
  const deliveries =
    (registry.getSingleMetric(name) as Counter<'outcome'> | undefined) ??
    new Counter({
      name,
      help: 'Web Push deliveries by outcome: sent, gone (404/410, subscription removed), retry (429/5xx/network, retried later), gave_up (last attempt met a 429 pause; subscription kept), removed_failing (a device that keeps failing: given up after the last attempt, or too many consecutive failures across pushes; subscription removed), rejected (other 4xx), refused (internal or invalid endpoint, subscription removed), flag_off (web-push switched off, dropped).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  return { deliveries };
}

export type PushMetrics = ReturnType<typeof pushMetrics>;
