import { Counter, Gauge, type Registry } from 'prom-client';
import { scrapeCache } from '../../platform/observability/scrape-cache.ts';

export interface ReportMetrics {
  /** Reports filed (a duplicate by the same reporter is not counted), by reason and target type. */
  opened: Counter<'reason' | 'target_type'>;
  /** Cases opened (the first report on a thing), by target type. */
  casesOpened: Counter<'target_type'>;
  /** Decisions, by action and stage (report or appeal). */
  resolved: Counter<'action' | 'stage'>;
}

/**
 * The reports metrics on a registry: two counters, and two gauges read from Postgres at scrape
 * time (every instance reports the same queue; cached 15 s) so the queue's age shows even when no
 * moderator is active. Idempotent per registry (the composition root and a job test may both ask).
 */
export function reportMetrics(
  registry: Registry,
  queueState: () => Promise<{ open: number; oldestSeconds: number }>,
): ReportMetrics {
  const existing = registry.getSingleMetric('kith_reports_opened_total');
  if (existing) {
    return {
      opened: existing as Counter<'reason' | 'target_type'>,
      casesOpened: registry.getSingleMetric('kith_report_cases_opened_total') as Counter<'target_type'>,
      resolved: registry.getSingleMetric('kith_report_cases_resolved_total') as Counter<'action' | 'stage'>,
    };
  }
  const read = scrapeCache(queueState);
  const gauge = (name: string, help: string, value: (s: { open: number; oldestSeconds: number }) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(value(await read()));
        } catch {
          // the database is unreachable: its own alerts fire
        }
      },
    });
  gauge(
    'kith_report_cases_open',
    'Report cases waiting for a moderator (reports and appeals)',
    (s) => s.open,
  );
  gauge(
    'kith_report_queue_oldest_seconds',
    'How long the oldest open report case has waited in the moderation queue (0 when none)',
    (s) => s.oldestSeconds,
  );
  return {
    opened: new Counter({
      name: 'kith_reports_opened_total',
      help: 'Reports filed, by reason and target type (a repeated report by the same user is not counted)',
      labelNames: ['reason', 'target_type'] as const,
      registers: [registry],
    }),
    casesOpened: new Counter({
      name: 'kith_report_cases_opened_total',
      help: 'Report cases opened (first report on a thing), by target type',
      labelNames: ['target_type'] as const,
      registers: [registry],
    }),
    resolved: new Counter({
      name: 'kith_report_cases_resolved_total',
      help: 'Report cases resolved, by action and stage (report or appeal)',
      labelNames: ['action', 'stage'] as const,
      registers: [registry],
    }),
  };
}
