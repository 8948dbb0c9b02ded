import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { EnvSchema } from '../src/config.ts';
import { REPO_DIR } from './helpers/process.ts';

// deploy/k8s: both overlays rendered with `kubectl kustomize` (Kustomize v5) and every object
// validated against its OpenAPI schema (kubernetes-models, @kubernetes-models/prometheus-operator),
// then the properties Kith relies on checked object by object.
const K8S = join(REPO_DIR, 'deploy/k8s');
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
if (!KUBECTL) console.warn('deploy-k8s: skipped, no kubectl (with Kustomize v5) on this machine');
/** The longest fail_timeout of deploy/nginx's upstreams: an instance refused once is left out that long. */
const NGINX_FAIL_TIMEOUT_S = Math.max(
  ...['api', 'realtime'].flatMap((f) =>
    [
      ...readFileSync(join(REPO_DIR, `deploy/nginx/upstreams/${f}.conf`), 'utf8').matchAll(
        /fail_timeout=(\d+)s/g,
      ),
    ].map((m) => Number(m[1])),
  ),
);

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // rendered manifests: read field by field in the checks below
  // biome-ignore lint/suspicious/noExplicitAny: arbitrary Kubernetes object bodies
  [k: string]: any;
};

function render(overlay: string): K8sObject[] {
  const devKey = join(K8S, 'overlays/dev/dev-jwt-signing-key.pem');
  if (overlay === 'dev' && !existsSync(devKey))
    writeFileSync(devKey, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const out = spawnSync(KUBECTL!, ['kustomize', join(K8S, 'overlays', overlay)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`kubectl kustomize ${overlay}: ${out.stderr}`);
  return parseAllDocuments(out.stdout).map((d) => d.toJS() as K8sObject);
}

async function validate(object: K8sObject): Promise<void> {
  const [group = '', version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : ['', object.apiVersion];
  // kustomize folds long base64 values over lines, which the API server's decoder (Go's
  // encoding/json) accepts and the schema's strict "byte" format does not
  if (object.kind === 'Secret' && object.data)
    object.data = Object.fromEntries(
      Object.entries(object.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]),
    );
  const path = group.endsWith('coreos.com')
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${object.kind}`
    : `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  const module = (await import(path)) as Record<string, new (o: unknown) => { validate(): void }>;
  new module[object.kind]!(object).validate();
}

describe.skipIf(!KUBECTL)('deploy/k8s', () => {
  const overlays = { dev: render('dev'), production: render('production') };
  const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
  const prod = overlays.production;

  it.each(Object.keys(overlays))('renders %s and every object is valid against its schema', async (name) => {
    const objects = overlays[name as keyof typeof overlays];
    expect(objects.length).toBeGreaterThan(15);
    for (const object of objects) {
      try {
        await validate(object);
      } catch (err) {
        throw new Error(`${object.kind}/${object.metadata.name}: ${(err as Error).message}`);
      }
    }
  });

  it('runs one Deployment per role with probes, resources and a locked-down security context', () => {
    for (const objects of Object.values(overlays)) {
      const deployments = byKind(objects, 'Deployment');
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
        'kith-api',
        'kith-realtime',
        'kith-worker',
      ]);
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        const [c] = pod.containers;
        expect(c.args, d.metadata.name).toEqual([
          'apps/server/dist/main.js',
          '--role',
          d.metadata.name.slice(5),
        ]);
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'])
          expect(c[probe], probe).toBeDefined();
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
        expect(c.livenessProbe.httpGet.path).toBe('/livez');
        expect(c.resources.requests.cpu).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual([
          'topology.kubernetes.io/zone',
          'kubernetes.io/hostname',
        ]);
        expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
        // behind a proxy: the next pod stops only after nginx's fail_timeout (+2 s) with the new one Ready
        if (d.metadata.name !== 'kith-worker')
          expect(d.spec.minReadySeconds, d.metadata.name).toBeGreaterThanOrEqual(NGINX_FAIL_TIMEOUT_S + 2);
        // graceful stop: the grace period covers the app's shutdown timeout and the preStop pause
        const config = byKind(objects, 'ConfigMap').find((m) => m.metadata.name === 'kith-config')!;
        expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
          Number(config.data.SHUTDOWN_TIMEOUT_MS) + c.lifecycle.preStop.sleep.seconds * 1000,
        );
      }
    }
  });

  it('reads secrets as files, configuration only from real keys, and connects the worker and the Job directly', () => {
    const known = new Set(Object.keys(EnvSchema.properties));
    for (const objects of Object.values(overlays)) {
      const config = byKind(objects, 'ConfigMap').find((m) => m.metadata.name === 'kith-config')!;
      for (const key of Object.keys(config.data)) expect(known.has(key), key).toBe(true);
      const pods = [...byKind(objects, 'Deployment'), ...byKind(objects, 'Job')];
      for (const p of pods) {
        const env: { name: string; value: string }[] = p.spec.template.spec.containers[0].env;
        for (const e of env) {
          expect(e.name, `${p.metadata.name}: ${e.name}`).toMatch(/_FILE$|^WORKER_CONCURRENCY$/);
          expect(known.has(e.name.replace(/_FILE$/, '')), e.name).toBe(true);
        }
        const dbUrl = env.find((e) => e.name === 'DATABASE_URL_FILE')!.value;
        const direct = ['kith-worker', 'kith-migrate'].includes(p.metadata.name);
        expect(dbUrl, p.metadata.name).toBe(`/run/secrets/kith/database_url_${direct ? 'direct' : 'pooled'}`);
      }
    }
    // production never carries a Secret of its own; dev generates one
    expect(byKind(prod, 'Secret')).toEqual([]);
    expect(byKind(overlays.dev, 'Secret').map((s) => s.metadata.name)).toEqual(['kith-secrets']);
  });

  it('has the migration Job, HPAs, PDBs, NetworkPolicies and a WebSocket-ready Ingress', () => {
    const [job] = byKind(prod, 'Job');
    expect(job!.spec.template.spec.containers[0].args).toEqual(['apps/server/dist/cli/migrate.js']);
    expect(job!.metadata.labels!['app.kubernetes.io/component']).toBe('migrate');
    expect(
      byKind(prod, 'HorizontalPodAutoscaler')
        .map((h) => h.spec.scaleTargetRef.name)
        .sort(),
    ).toEqual(['kith-api', 'kith-realtime']);
    expect(byKind(prod, 'PodDisruptionBudget').length).toBe(3);
    const policies = byKind(prod, 'NetworkPolicy');
    expect(policies.find((p) => p.metadata.name === 'kith-default-deny')!.spec.policyTypes).toEqual([
      'Ingress',
      'Egress',
    ]);
    const realtime = byKind(prod, 'Ingress').find((i) => i.metadata.name === 'kith-realtime')!;
    expect(
      Number(realtime.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-read-timeout']),
    ).toBeGreaterThanOrEqual(3600);
    expect(realtime.spec.rules[0].http.paths[0].path).toBe('/api/v1/realtime');
    // the image is pinned by digest in production
    for (const d of byKind(prod, 'Deployment'))
      expect(d.spec.template.spec.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(
      prod.every(
        (o) => o.kind === 'Namespace' || (o.metadata as { namespace?: string }).namespace === 'kith',
      ),
    ).toBe(true);
  });

  it('ships the alert rules Prometheus tests, unchanged, as a PrometheusRule', () => {
    const [rule] = byKind(prod, 'PrometheusRule');
    const alerts = parse(readFileSync(join(REPO_DIR, 'deploy/prometheus/alerts.yml'), 'utf8'));
    expect(rule!.spec.groups, 'run node scripts/k8s-prometheus-rule.mjs').toEqual(alerts.groups);
    expect(byKind(prod, 'ServiceMonitor')[0]!.spec.endpoints[0].port).toBe('metrics');
  });
});
