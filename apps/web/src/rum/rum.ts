import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import type { BodyOf } from '../api/client.ts';

type RumReport = BodyOf<'/api/v1/rum', 'post'>;
type Metric = RumReport['metrics'][number];
const RUM_PATH = '/api/v1/rum';

/** Where the page is, as the router's route pattern (`/posts/$postId`): never ids or names. */
export interface RouteSource {
  routePattern(): string;
}

/**
 * Real-user monitoring: the web-vitals library measures LCP, INP, CLS, TTFB and FCP; they are sent
 * to Kith (no third party) with `navigator.sendBeacon` when the page is hidden, grouped by the
 * route they were measured on. main.tsx loads this module (with web-vitals) after the first render.
 */
export async function startRum(source: RouteSource): Promise<void> {
  if (typeof navigator === 'undefined' || typeof navigator.sendBeacon !== 'function') return;
  const pending = new Map<string, Metric[]>();
  const add = ({ name, value }: { name: string; value: number }) => {
    const route = source.routePattern();
    const list = pending.get(route) ?? [];
    const metric = { name, value: Math.max(0, Math.min(600_000, value)) } as Metric;
    pending.set(route, [...list.filter((m) => m.name !== metric.name), metric]);
  };
  const flush = () => {
    for (const [route, metrics] of pending) {
      const body: RumReport = { route, metrics: metrics.slice(0, 10) };
      navigator.sendBeacon(RUM_PATH, new Blob([JSON.stringify(body)], { type: 'application/json' }));
    }
    pending.clear();
  };
  onLCP(add);
  onINP(add);
  onCLS(add);
  onTTFB(add);
  onFCP(add);
  addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  addEventListener('pagehide', flush);
}
