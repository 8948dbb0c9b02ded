import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../src/platform/observability/metrics.ts';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');

interface Rule {
  alert: string;
  expr: string;
  annotations: { summary: string; runbook_url: string };
}

/** GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

describe('alerts and runbooks', async () => {
  const rules = (
    parse(await read('deploy/prometheus/alerts.yml')) as { groups: { rules: Rule[] }[] }
  )// recording rules (the SLO ratios) have no runbook; alerts do
  .groups
    .flatMap((g) => g.rules)
    .filter((r) => r.alert);
  const runbook = await read('docs/runbooks.md');
  const anchors = new Set([...runbook.matchAll(/^## (.+)$/gm)].map((m) => anchor(m[1]!)));

  it('links every alert to a runbook section that exists', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const [file, section] = rule.annotations.runbook_url.split('#');
      expect(file, rule.alert).toBe('docs/runbooks.md');
      expect(anchors.has(section!), `${rule.alert} → #${section}`).toBe(true);
    }
  });

  it('uses only metric names Kith exports', async () => {
    const exported = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    for (const rule of rules) {
      for (const [name] of rule.expr.matchAll(/\bkith_[a-z_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        expect(exported.has(base), `${rule.alert} uses ${name}`).toBe(true);
      }
    }
  });
});
