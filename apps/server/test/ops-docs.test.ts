import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildTestApp } from './helpers/app.ts';

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
  const rules = (parse(await read('deploy/prometheus/alerts.yml')) as { groups: { rules: Rule[] }[] }).groups // recording rules (the SLO ratios) have no runbook; alerts do
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
    // a built app's registry: the process metrics plus those the platform adds (backups)
    const { platform } = await buildTestApp();
    const exported = new Set((await platform.metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    for (const rule of rules) {
      for (const [name] of rule.expr.matchAll(/\bkith_[a-z_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        expect(exported.has(base), `${rule.alert} uses ${name}`).toBe(true);
      }
    }
  });
});
