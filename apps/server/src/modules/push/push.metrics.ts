import { Counter, type Registry } from 'prom-client';

/** Outcomes of one push delivery attempt. */
export type PushOutcome = 'sent' | 'gone' | 'retry' | 'gave_up' | 'rejected' | 'refused';

/** Web Push deliveries by outcome (one registry per process; tests build several apps). */
export function pushMetrics(registry: Registry) {
  const name = 'kith_push_deliveries_total';
  const deliveries =
    (registry.getSingleMetric(name) as Counter<'outcome'> | undefined) ??
    new Counter({
      name,
      help: 'Web Push deliveries by outcome: sent, gone (404/410, subscription removed), retry (429/5xx/network, retried later), gave_up, rejected (other 4xx), refused (internal address).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  return { deliveries };
}

export type PushMetrics = ReturnType<typeof pushMetrics>;
