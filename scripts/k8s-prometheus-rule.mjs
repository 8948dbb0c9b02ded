// Writes deploy/k8s/components/monitoring/prometheusrule.yaml from deploy/prometheus/alerts.yml,
// so the Prometheus Operator gets exactly the rules promtool tests (the k8s test fails on drift).
//   node scripts/k8s-prometheus-rule.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../apps/server/package.json', import.meta.url));
const { parse, stringify } = require('yaml');
const root = new URL('..', import.meta.url);
const rules = parse(readFileSync(new URL('deploy/prometheus/alerts.yml', root), 'utf8'));
const resource = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'kith', labels: { 'app.kubernetes.io/name': 'kith' } },
  spec: { groups: rules.groups },
};
writeFileSync(
  new URL('deploy/k8s/components/monitoring/prometheusrule.yaml', root),
  `# Generated from deploy/prometheus/alerts.yml by scripts/k8s-prometheus-rule.mjs; do not edit.\n${stringify(resource, { lineWidth: 0 })}`,
);
