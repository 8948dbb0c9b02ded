import { Histogram, type Registry } from 'prom-client';
import type { Static } from 'typebox';
import type { RUM_METRICS, RumReport } from './rum.schema.ts';

type MetricName = (typeof RUM_METRICS)[number];

/** Routes kept as their own label; past this, reports count under `other` (bounded cardinality). */
export const MAX_ROUTES = 50;
const OTHER = 'other';

/**
 * Real-user monitoring: Core Web Vitals from browsers, as Prometheus histograms by client route.
 * Timings are recorded in seconds (`kith_rum_lcp_seconds`, …), CLS as its score (`kith_rum_cls`).
 */
export class RumService {
  private readonly histograms: Record<MetricName, Histogram<'route'>>;
  private readonly routes = new Set<string>();

  constructor(registry: Registry) {
    // one set per registry, even when a second app is built on the same platform
    const seconds = (name: string, help: string, buckets: number[]) =>
      (registry.getSingleMetric(name) as Histogram<'route'> | undefined) ??
      new Histogram({ name, help, labelNames: ['route'] as const, buckets, registers: [registry] });
    // (`seconds` makes the CLS histogram too: same shape, a unitless score)
    const paint = [0.5, 1, 1.5, 2, 2.5, 3, 4, 6, 10, 20];
    this.histograms = {
      LCP: seconds('kith_rum_lcp_seconds', 'Largest Contentful Paint reported by browsers, by route', paint),
      FCP: seconds('kith_rum_fcp_seconds', 'First Contentful Paint reported by browsers, by route', paint),
      TTFB: seconds(
        'kith_rum_ttfb_seconds',
        'Time to first byte reported by browsers, by route',
        [0.05, 0.1, 0.2, 0.4, 0.8, 1.2, 1.8, 3, 6],
      ),
      INP: seconds(
        'kith_rum_inp_seconds',
        'Interaction to Next Paint reported by browsers, by route',
        [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
      ),
      CLS: seconds(
        'kith_rum_cls',
        'Cumulative Layout Shift reported by browsers, by route (unitless)',
        [0.01, 0.05, 0.1, 0.15, 0.25, 0.5, 1],
      ),
    };
  }

  /** Records one page's report. */
  record(report: Static<typeof RumReport>): void {
    const route = this.routeLabel(report.route);
    for (const { name, value } of report.metrics) {
      this.histograms[name].observe({ route }, name === 'CLS' ? value : value / 1000);
    }
  }

  private routeLabel(route: string): string {
    if (this.routes.has(route)) return route;
    if (this.routes.size >= MAX_ROUTES) return OTHER;
    this.routes.add(route);
    return route;
  }
}
