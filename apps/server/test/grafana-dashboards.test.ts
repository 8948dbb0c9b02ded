import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildTestApp } from './helpers/app.ts';

const root = new URL('../../../', import.meta.url);
const dashboardsDir = new URL('deploy/grafana/dashboards/', root);
const TOKEN = 'dashboards-test-token';
// Grafana's own variable syntax (the data source picked in the dashboard), not a JS template
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable reference
const DATASOURCE_VARIABLE = '${datasource}';

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

/** Every series name a PromQL expression reads: Kith's own metrics and the recorded SLO ratios. */
const namesIn = (expr: string) => [...expr.matchAll(/\bkith(?:_[a-z0-9_]+|:[a-z0-9_:]+)/g)].map((m) => m[0]);

describe('Grafana dashboards', async () => {
  const files = (await readdir(dashboardsDir)).filter((f) => f.endsWith('.json'));
  const dashboards = await Promise.all(
    files.map(async (f) => JSON.parse(await readFile(new URL(f, dashboardsDir), 'utf8')) as Dashboard),
  );

  it('each has a unique uid and every panel a query on the chosen data source', () => {
    expect(dashboards.length).toBeGreaterThanOrEqual(4);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
    for (const d of dashboards) {
      for (const panel of d.panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource?.uid, `${d.uid}: ${panel.title}`).toBe(DATASOURCE_VARIABLE);
        expect(panel.targets?.length, `${d.uid}: ${panel.title}`).toBeGreaterThan(0);
        expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      }
    }
  });

  it('queries only metrics a running Kith exports, or ratios the rules record', async () => {
    const { app } = await buildTestApp({ METRICS_TOKEN: TOKEN });
    // one request so the per-request series exist; the TYPE lines list every registered metric
    await app.inject({ method: 'GET', url: '/livez' });
    const scrape = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(scrape.statusCode).toBe(200);
    const exported = new Set<string>();
    for (const [, name, type] of scrape.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name!);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
      if (type === 'summary') for (const s of ['_sum', '_count']) exported.add(name + s);
    }
    const rules = parse(await readFile(new URL('deploy/prometheus/alerts.yml', root), 'utf8')) as {
      groups: { rules: { record?: string }[] }[];
    };
    const recorded = new Set(
      rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))),
    );

    const unknown: string[] = [];
    let checked = 0;
    for (const d of dashboards) {
      for (const panel of d.panels) {
        for (const target of panel.targets ?? []) {
          const names = namesIn(target.expr);
          expect(names.length, `${d.uid}: ${panel.title} reads no Kith metric`).toBeGreaterThan(0);
          for (const name of names) {
            checked++;
            if (!(name.includes(':') ? recorded.has(name) : exported.has(name)))
              unknown.push(`${d.uid} / ${panel.title}: ${name}`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(unknown).toEqual([]);
  });
});
